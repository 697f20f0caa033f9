use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use super::{Breach, Property, Step};

/// Where each term's entries begin, as first seen.
#[derive(Debug, Default)]
pub(super) struct RunStarts {
    starts: BTreeMap<u64, Start>,
}

/// The first entry of a term, the term of the entry before it, and the peer that showed it.
#[derive(Clone, Copy, Debug)]
struct Start {
    index: u64,
    after: u64,
    peer: usize,
}

impl RunStarts {
    /// §5.3 Log Matching: every visible beginning of a term's run is that term's beginning.
    pub(super) fn check(&mut self, step: &Step<'_>) -> Result<(), Breach> {
        let view = step.view;
        let (snapshot, snapshot_term) = (view.snapshot_index, view.snapshot_term);
        if snapshot > 0 {
            if let Some(start) = self.starts.get(&snapshot_term) {
                if start.index > snapshot {
                    return Err(Breach::new(
                        Property::LogMatching,
                        format!(
                            "peer {}'s snapshot ends at index {snapshot} with term \
                             {snapshot_term}, but peer {} holds the entries of term \
                             {snapshot_term} from index {} on",
                            step.peer, start.peer, start.index
                        ),
                    ));
                }
            }
        }
        let mut before = snapshot_term;
        for run in step.runs {
            let after = std::mem::replace(&mut before, run.term);
            if after == run.term {
                continue; // began inside the snapshot
            }
            let seen = Start {
                index: run.start,
                after,
                peer: step.peer,
            };
            match self.starts.entry(run.term) {
                Entry::Vacant(slot) => {
                    slot.insert(seen);
                }
                Entry::Occupied(slot) => {
                    let first = *slot.get();
                    if first.index != seen.index || first.after != seen.after {
                        return Err(different_histories(run.term, first, seen));
                    }
                }
            }
        }
        Ok(())
    }
}

fn different_histories(term: u64, first: Start, seen: Start) -> Breach {
    let from = |start: Start| {
        format!(
            "from index {} after an entry of term {}",
            start.index, start.after
        )
    };
    let detail = if first.peer == seen.peer {
        format!(
            "peer {} has held entries of term {term} {}, and {}",
            seen.peer,
            from(first),
            from(seen)
        )
    } else {
        format!(
            "peers {} and {} both hold entries of term {term}, after different histories: {} \
             and {}",
            first.peer,
            seen.peer,
            from(first),
            from(seen)
        )
    };
    Breach::new(Property::LogMatching, detail)
}
