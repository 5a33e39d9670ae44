//! The cells of one CSV/TSV record, kept in one buffer: their text back to back and where each
//! one starts. A record costs two allocations however many columns it has, and the cells are
//! read as `&str` slices of that buffer.

use std::fmt;
use std::ops::Range;

/// The decoded cells of one record, in column order.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Cells {
    text: String,
    /// Byte offset in `text` where each cell starts; a cell ends where the next one starts.
    starts: Vec<usize>,
}

impl Cells {
    /// Room for `cells` cells holding `bytes` bytes of text in all.
    pub fn with_capacity(cells: usize, bytes: usize) -> Cells {
        Cells {
            text: String::with_capacity(bytes),
            starts: Vec::with_capacity(cells),
        }
    }

    /// Cells from their text back to back and the offset where each starts. `None` unless
    /// the offsets are ascending char boundaries of `text`, the first one 0.
    pub fn from_parts(text: String, starts: Vec<usize>) -> Option<Cells> {
        let ordered = starts.first().is_none_or(|&s| s == 0)
            && starts.windows(2).all(|w| w[0] <= w[1])
            && starts.iter().all(|&s| text.is_char_boundary(s));
        (ordered && (text.is_empty() || !starts.is_empty())).then_some(Cells { text, starts })
    }

    /// Append a cell.
    pub fn push(&mut self, cell: &str) {
        self.starts.push(self.text.len());
        self.text.push_str(cell);
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// The cell at `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<&str> {
        self.text.get(piece(&self.starts, self.text.len(), index)?)
    }

    /// The cells in column order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + DoubleEndedIterator + '_ {
        (0..self.starts.len()).map(|i| self.get(i).unwrap_or_default())
    }

    /// The cells as owned strings.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_owned).collect()
    }
}

/// Where piece `index` lies in a buffer of `total` bytes cut where each piece `starts` (a piece
/// ends where the next one starts).
pub(super) fn piece(starts: &[usize], total: usize, index: usize) -> Option<Range<usize>> {
    let start = *starts.get(index)?;
    let end = starts.get(index + 1).copied().unwrap_or(total);
    Some(start..end)
}

impl<S: AsRef<str>> FromIterator<S> for Cells {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Cells {
        let mut cells = Cells::default();
        for cell in iter {
            cells.push(cell.as_ref());
        }
        cells
    }
}

impl From<Vec<String>> for Cells {
    fn from(cells: Vec<String>) -> Cells {
        cells.iter().collect()
    }
}

impl<S: AsRef<str>> PartialEq<[S]> for Cells {
    fn eq(&self, other: &[S]) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b.as_ref())
    }
}

impl<S: AsRef<str>> PartialEq<Vec<S>> for Cells {
    fn eq(&self, other: &Vec<S>) -> bool {
        *self == other[..]
    }
}

impl fmt::Debug for Cells {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests;
