//! Terms never decrease (§5.1; Figure 2, `currentTerm`: "latest term server has seen ...
//! increases monotonically", persisted before responding to RPCs). Within one incarnation
//! every look is compared with the last. Across a restart only what the peer revealed counts:
//! a term seen in an RPC reply was persisted, so the restarted peer must be in it or later;
//! a term it only held in memory may be lost in a crash, since nobody learned it.

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

#[cfg(test)]
mod tests {
    use lab_api::RaftView;

    use crate::invariants::Property;
    use crate::invariants::script::Script;

    fn in_term(term: u64) -> RaftView {
        RaftView {
            term,
            ..RaftView::default()
        }
    }

    #[test]
    fn silent_when_terms_rise_and_unrevealed_terms_are_lost_in_a_crash() {
        let mut script = Script::new(3);
        for term in 0..40 {
            script.see(0, in_term(term)).unwrap();
            script.reveal(0, in_term(term)).unwrap();
        }
        script.reveal(1, in_term(5)).unwrap();
        // Peer 1 starts an election in memory (term 6, then 7) and crashes before any
        // reply revealed them: back in term 5 is fine.
        script.see(1, in_term(6)).unwrap();
        script.see(1, in_term(7)).unwrap();
        script.restart(1);
        script.see(1, in_term(5)).unwrap();
        script.see(1, in_term(8)).unwrap();
        // Never revealed anything: a restart in term 0 is fine.
        script.see(2, in_term(3)).unwrap();
        script.restart(2);
        script.see(2, in_term(0)).unwrap();
    }

    #[test]
    fn fires_when_a_term_goes_back_within_an_incarnation() {
        let mut script = Script::new(3);
        script.see(2, in_term(5)).unwrap();
        let violation = script.see(2, in_term(4)).unwrap_err();
        assert_eq!(violation.property, Property::TermMonotonic);
        assert_eq!(violation.detail, "peer 2's term went back from 5 to 4");
    }

    #[test]
    fn fires_when_a_restart_loses_a_revealed_term() {
        let mut script = Script::new(3);
        script.reveal(1, in_term(6)).unwrap();
        script.see(1, in_term(7)).unwrap();
        script.restart(1);
        let violation = script.see(1, in_term(5)).unwrap_err();
        assert_eq!(violation.property, Property::TermMonotonic);
        assert_eq!(
            violation.detail,
            "peer 1 restarted (incarnation 1) in term 5, below term 6 which it had revealed in \
             an RPC reply"
        );
    }
}
