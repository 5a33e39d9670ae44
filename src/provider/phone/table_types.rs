//! The types of the generated numbering-plan table (`table.rs`).

/// One number description: the national number pattern and the
/// lengths numbers of it have, nationally and locally only.
pub(super) struct TableDesc {
    pub(super) pattern: &'static str,
    pub(super) lengths: &'static [u16],
    pub(super) local: &'static [u16],
}

/// One region: the metadata fields `NumberingPlan::compile` (plan.rs) reads.
pub(super) struct TableRegion {
    pub(super) id: &'static str,
    pub(super) code: u16,
    /// The main region of its country calling code.
    pub(super) main: bool,
    pub(super) general: &'static str,
    /// Mobile, fixed line, toll free, premium rate, shared cost, personal, VoIP, pager, UAN,
    /// voicemail: those the region has, in that order.
    pub(super) types: &'static [TableDesc],
    pub(super) idd: Option<&'static str>,
    pub(super) prefix_for_parsing: Option<&'static str>,
    pub(super) prefix: Option<&'static str>,
    pub(super) transform: Option<&'static str>,
    pub(super) leading: Option<&'static str>,
}
