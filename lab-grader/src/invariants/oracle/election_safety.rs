use std::collections::BTreeMap;

use lab_api::Role;

use super::{Breach, Property, Step};

/// The first peer seen as leader of each term.
#[derive(Debug, Default)]
pub(super) struct Leaders {
    first: BTreeMap<u64, usize>,
}

impl Leaders {
    /// §5.2: another peer seen leading a term that already has a leader is a violation.
    pub(super) fn check(&mut self, step: &Step<'_>) -> Result<(), Breach> {
        if step.view.role != Role::Leader {
            return Ok(());
        }
        let term = step.view.term;
        let first = *self.first.entry(term).or_insert(step.peer);
        if first == step.peer {
            return Ok(());
        }
        Err(Breach::new(
            Property::ElectionSafety,
            format!(
                "peers {first} and {} were both leader in term {term}",
                step.peer
            ),
        ))
    }
}
