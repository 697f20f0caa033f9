use super::{Breach, Property, Step};

/// The highest term each peer revealed, over all its incarnations.
#[derive(Debug)]
pub(super) struct Terms {
    revealed: Vec<u64>,
}

impl Terms {
    pub(super) fn new(peers: usize) -> Self {
        Terms {
            revealed: vec![0; peers],
        }
    }

    /// Figure 2 `currentTerm`: never below the last look, nor below a revealed term.
    pub(super) fn check(&mut self, step: &Step<'_>) -> Result<(), Breach> {
        let (peer, term) = (step.peer, step.view.term);
        if let Some(prev) = step.prev {
            if term < prev.term {
                return Err(Breach::new(
                    Property::TermMonotonic,
                    format!("peer {peer}'s term went back from {} to {term}", prev.term),
                ));
            }
        }
        let revealed = self.revealed[peer];
        if term < revealed {
            return Err(Breach::new(
                Property::TermMonotonic,
                format!(
                    "peer {peer} restarted (incarnation {}) in term {term}, below term \
                     {revealed} which it had revealed in an RPC reply",
                    step.incarnation
                ),
            ));
        }
        if step.revealed {
            self.revealed[peer] = term;
        }
        Ok(())
    }
}
