use lab_api::RaftView;

/// Entries `start..=end` all have term `term`, and the entries around them (if shown) do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Run {
    /// Index of the first entry.
    pub(super) start: u64,
    /// Index of the last entry.
    pub(super) end: u64,
    /// Their term.
    pub(super) term: u64,
}

/// Splits the log `view` shows after its snapshot into maximal runs, in index order, into
/// `out` (cleared first). One pass over `log_terms`.
pub(super) fn split(view: &RaftView, out: &mut Vec<Run>) {
    out.clear();
    let terms = view.log_terms.as_slice();
    let mut start = view.snapshot_index + 1;
    let mut rest = terms;
    while let Some(&term) = rest.first() {
        let len = rest.iter().position(|&t| t != term).unwrap_or(rest.len());
        let end = start + len as u64 - 1;
        out.push(Run { start, end, term });
        start = end + 1;
        rest = &rest[len..];
    }
}

/// The run holding `index`, if `runs` cover it.
pub(super) fn containing(runs: &[Run], index: u64) -> Option<Run> {
    let k = runs.partition_point(|run| run.end < index);
    runs.get(k).filter(|run| run.start <= index).copied()
}
