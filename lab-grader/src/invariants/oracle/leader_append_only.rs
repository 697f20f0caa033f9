use super::runs::{self, Run};
use super::{Breach, Property, Step};

/// §5.3 Leader Append-Only, between the previous look and this one.
pub(super) fn check(step: &Step<'_>) -> Result<(), Breach> {
    let Some(prev) = step.prev else { return Ok(()) };
    let view = step.view;
    let term = view.term;
    if prev.leading() != Some(term) || view.role != lab_api::Role::Leader {
        return Ok(());
    }
    let changed = |index: u64, had: u64| {
        let now = match view.term_at(index) {
            Some(now) => format!("now {now}"),
            None => format!("now gone (the log ends at {})", view.last_index()),
        };
        Err(Breach::new(
            Property::LeaderAppendOnly,
            format!(
                "leader {} of term {term} changed its log: index {index} had term {had}, {now}",
                step.peer
            ),
        ))
    };
    let snapshot = view.snapshot_index;
    if snapshot > prev.snapshot_index {
        if let Some(had) = runs::containing(&prev.runs, snapshot).map(|run| run.term) {
            if had != view.snapshot_term {
                return changed(snapshot, had);
            }
        }
    }
    for &Run {
        start,
        end,
        term: had,
    } in &prev.runs
    {
        if end <= snapshot {
            continue;
        }
        let from = start.max(snapshot + 1);
        match runs::containing(step.runs, from) {
            Some(now) if now.term == had && now.end >= end => {}
            Some(now) if now.term == had => return changed(now.end + 1, had),
            _ => return changed(from, had),
        }
    }
    Ok(())
}
