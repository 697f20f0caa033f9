use super::committed::Committed;
use super::runs::{self, Run};
use super::{Breach, Property, Step};

/// Figure 2: the log reaches the commit index, and committed entries stay.
pub(super) fn check(step: &Step<'_>, committed: &Committed) -> Result<(), Breach> {
    let view = step.view;
    let peer = step.peer;
    if view.commit_index > view.last_index() {
        return Err(Breach::new(
            Property::CommittedKept,
            format!(
                "peer {peer} has commit index {} but its log ends at {}",
                view.commit_index,
                view.last_index()
            ),
        ));
    }
    let Some(prev) = step.prev else { return Ok(()) };
    let Some((index, had)) = first_difference(&prev.runs, step.runs, view.snapshot_index) else {
        return Ok(());
    };
    match committed.term(index) {
        Some((term, shown_by)) if term == had => {
            let now = match view.term_at(index) {
                Some(now) => format!("now has term {now}"),
                None => format!("is gone (the log ends at {})", view.last_index()),
            };
            let by = if shown_by == peer {
                "it".to_string()
            } else {
                format!("peer {shown_by}")
            };
            Err(Breach::new(
                Property::CommittedKept,
                format!(
                    "peer {peer} removed a committed entry: index {index} (term {had}, shown \
                     committed by {by}) {now}"
                ),
            ))
        }
        _ => Ok(()),
    }
}

/// The first index after `snapshot` that `before` held and `now` no longer holds with the
/// same term, and the term it had.
fn first_difference(before: &[Run], now: &[Run], snapshot: u64) -> Option<(u64, u64)> {
    for &Run { start, end, term } in before {
        if end <= snapshot {
            continue;
        }
        let from = start.max(snapshot + 1);
        match runs::containing(now, from) {
            Some(run) if run.term == term && run.end >= end => {}
            Some(run) if run.term == term => return Some((run.end + 1, term)),
            _ => return Some((from, term)),
        }
    }
    None
}
