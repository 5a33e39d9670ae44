//! The final outcome of a row that reached the sender: what the pipeline decides, the
//! journal records and reads back, and the reports show. Its own module so that the journal
//! and the pipeline both depend on it and not on each other.

/// The final outcome of a row that reached the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Succeeded {
        id: Option<String>,
        already_present: bool,
    },
    Failed {
        code: String,
        message: String,
    },
    Unknown {
        code: String,
        message: String,
    },
    /// Never sent because the run stopped early.
    Pending,
}
