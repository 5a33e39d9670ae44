//! Dates of a run: the `--date-order` birthdays are read in, and what reading saw of the
//! birthdays that failed in it but read in another order (for one closing hint, also in the
//! dry-run plan view).

use super::rules::{self, DateOrder};
use super::Rejection;

/// The date order of a run (`--date-order`). What reading saw of the birthdays is kept apart,
/// in the reader's [`DateStats`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Dates {
    order: DateOrder,
}

/// What reading saw of the birthdays: the count of values refused that read only in another
/// order (by order: ymd, dmy, mdy). A plain value of the reading stage.
#[derive(Debug, Clone, Default)]
pub struct DateStats {
    other: [u64; 3],
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
        Dates { order }
    }

    pub fn order(&self) -> DateOrder {
        self.order
    }

    /// A birthday read with the run's order ([`rules::birthday`]); a value refused that
    /// reads in another order is counted in `seen`.
    pub fn birthday(
        &self,
        field: &str,
        value: &str,
        seen: &mut DateStats,
    ) -> Result<String, Rejection> {
        rules::birthday(field, value, self.order).inspect_err(|_| {
            if let Some(o) = rules::other_order(value.trim(), self.order) {
                seen.other[slot(o)] += 1;
            }
        })
    }

    /// The hint for the dates refused that read in another order, if `seen` holds any: the
    /// order most of them read in.
    pub fn hint(&self, seen: &DateStats) -> Option<String> {
        let counts =
            [DateOrder::Ymd, DateOrder::Dmy, DateOrder::Mdy].map(|o| (o, seen.other[slot(o)]));
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
mod tests;
