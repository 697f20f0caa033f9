use lab_api::Role;

use super::committed::Committed;
use super::{Breach, Property, Step};

/// Per peer, how far its current leadership has been verified.
#[derive(Debug)]
pub(super) struct Completeness {
    verified: Vec<Option<Verified>>,
}

/// Peer's incarnation `incarnation`, leading `term`, holds every required entry up to `upto`.
#[derive(Clone, Copy, Debug)]
struct Verified {
    incarnation: u64,
    term: u64,
    upto: u64,
}

impl Completeness {
    pub(super) fn new(peers: usize) -> Self {
        Completeness {
            verified: vec![None; peers],
        }
    }

    /// §5.4 Leader Completeness: a leader holds every entry committed in an earlier term.
    pub(super) fn check(&mut self, step: &Step<'_>, committed: &Committed) -> Result<(), Breach> {
        let view = step.view;
        if view.role != Role::Leader {
            return Ok(());
        }
        let (peer, term) = (step.peer, view.term);
        let done = match self.verified[peer] {
            Some(v) if v.incarnation == step.incarnation && v.term == term => v.upto,
            _ => 0,
        };
        let required = committed.required_before(term);
        for index in (done + 1).max(view.snapshot_index).max(1)..=required {
            let Some((committed_term, _)) = committed.term(index) else {
                continue;
            };
            let held = view.term_at(index);
            if held != Some(committed_term) {
                return Err(missing(step, index, committed_term, held, committed));
            }
        }
        self.verified[peer] = Some(Verified {
            incarnation: step.incarnation,
            term,
            upto: done.max(required),
        });
        Ok(())
    }
}

fn missing(
    step: &Step<'_>,
    index: u64,
    committed_term: u64,
    held: Option<u64>,
    committed: &Committed,
) -> Breach {
    let holds = match held {
        Some(held) => format!("holds term {held} at index {index}"),
        None => format!(
            "lacks index {index} (its log ends at {})",
            step.view.last_index()
        ),
    };
    let shown = committed.stair(index).map_or(String::new(), |stair| {
        format!(
            ", which peer {} showed committed while in term {}",
            stair.peer, stair.term
        )
    });
    Breach::new(
        Property::LeaderCompleteness,
        format!(
            "leader {} of term {} {holds}, but index {index} was committed with term \
             {committed_term}{shown}",
            step.peer, step.view.term
        ),
    )
}
