use lab_api::Role;

use super::{Breach, Property, Step};

/// §5.4.2, Figure 8: a leader's commit index advances only to an entry of its own term.
pub(super) fn check(step: &Step<'_>) -> Result<(), Breach> {
    let Some(prev) = step.prev else { return Ok(()) };
    let view = step.view;
    let (term, from, to) = (view.term, prev.commit_index, view.commit_index);
    if view.role != Role::Leader || prev.leading() != Some(term) || to <= from {
        return Ok(());
    }
    if to < view.snapshot_index {
        return Ok(());
    }
    let found = match view.term_at(to) {
        Some(held) if held == term => return Ok(()),
        Some(held) => format!("an entry of term {held}"),
        None => format!("beyond its last entry {}", view.last_index()),
    };
    Err(Breach::new(
        Property::CommitRule,
        format!(
            "leader {} of term {term} advanced its commit index from {from} to {to}, {found}",
            step.peer
        ),
    ))
}
