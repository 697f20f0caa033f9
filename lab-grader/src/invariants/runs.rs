//! A log as runs of equal terms. Raft's logs are long runs of one term (a leader appends only
//! entries of its own term, §5.3), so the checks compare runs, not entries: a 4000-entry log
//! of a test is a few dozen runs.

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

#[cfg(test)]
mod tests {
    use lab_api::RaftView;

    use super::{Run, containing, split};

    #[test]
    fn split_after_a_snapshot_and_find_by_index() {
        let view = RaftView {
            snapshot_index: 4,
            snapshot_term: 1,
            log_terms: vec![1, 2, 2, 2, 5],
            ..RaftView::default()
        };
        let mut runs = Vec::new();
        split(&view, &mut runs);
        assert_eq!(
            runs,
            [
                Run {
                    start: 5,
                    end: 5,
                    term: 1
                },
                Run {
                    start: 6,
                    end: 8,
                    term: 2
                },
                Run {
                    start: 9,
                    end: 9,
                    term: 5
                },
            ]
        );
        assert_eq!(containing(&runs, 7).map(|run| run.term), Some(2));
        assert_eq!(containing(&runs, 4), None);
        assert_eq!(containing(&runs, 10), None);
    }

    #[test]
    fn empty_log_has_no_runs() {
        let mut runs = vec![Run {
            start: 1,
            end: 1,
            term: 1,
        }];
        split(&RaftView::default(), &mut runs);
        assert!(runs.is_empty());
    }
}
