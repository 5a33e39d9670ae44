//! Dates of a run: the `--date-order` birthdays are read in, and what reading saw of the
//! birthdays that failed in it but read in another order (for one closing hint, also in the
//! dry-run plan view).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::rules::{self, DateOrder};
use super::Rejection;

/// The date order of a run and, shared by clones, the count of values that read only in
/// another order (by order: ymd, dmy, mdy).
#[derive(Debug, Clone, Default)]
pub struct Dates {
    order: DateOrder,
    other: Arc<[AtomicU64; 3]>,
}

fn slot(order: DateOrder) -> usize {
    match order {
        DateOrder::Ymd => 0,
        DateOrder::Dmy => 1,
        DateOrder::Mdy => 2,
    }
}

impl Dates {
    pub fn new(order: DateOrder) -> Dates {
        Dates {
            order,
            other: Arc::default(),
        }
    }

    pub fn order(&self) -> DateOrder {
        self.order
    }

    /// A birthday read with the run's order ([`rules::birthday`]); a value refused that
    /// reads in another order is counted.
    pub fn birthday(&self, field: &str, value: &str) -> Result<String, Rejection> {
        rules::birthday(field, value, self.order).inspect_err(|_| {
            if let Some(o) = rules::other_order(value.trim(), self.order) {
                self.other[slot(o)].fetch_add(1, Ordering::Relaxed);
            }
        })
    }

    /// The hint for the dates refused that read in another order, if any were: the order
    /// most of them read in.
    pub fn hint(&self) -> Option<String> {
        let counts = [DateOrder::Ymd, DateOrder::Dmy, DateOrder::Mdy]
            .map(|o| (o, self.other[slot(o)].load(Ordering::Relaxed)));
        let (order, n) = counts
            .into_iter()
            .max_by_key(|&(o, n)| (n, o == DateOrder::Dmy))?;
        (n > 0).then(|| {
            let (values, read) = if n == 1 {
                ("birthday", "reads")
            } else {
                ("birthdays", "read")
            };
            format!(
                "{n} {values} refused as {} {read} {}: give --date-order {}",
                self.order.reading(),
                order.reading(),
                order.name()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_dates_that_read_another_way_are_counted() {
        let d = Dates::new(DateOrder::Ymd);
        assert_eq!(d.hint(), None);
        assert_eq!(d.birthday("b", "1990-05-17").unwrap(), "1990-05-17");
        let e = d.birthday("b", "17/05/1990").unwrap_err();
        assert!(e.message.contains("give --date-order dmy"), "{}", e.message);
        assert!(d.birthday("b", "31/12/1990").is_err());
        assert!(d.birthday("b", "12/31/1990").is_err());
        assert!(d.birthday("b", "31/31/1990").is_err());
        assert_eq!(
            d.hint().as_deref(),
            Some(
                "2 birthdays refused as year-first (yyyy-M-d) read day-first (d/M/yyyy): \
                 give --date-order dmy"
            )
        );
        let clone = d.clone();
        assert!(clone.birthday("b", "12/31/1990").is_err());
        assert!(clone.birthday("b", "12/30/1990").is_err());
        // Clones share the counts; the order most values read in is named.
        assert!(d.hint().unwrap().ends_with("--date-order mdy"));
    }
}
