//! One vote per term (§5.2: "each server will vote for at most one candidate in a given
//! term"; Figure 2, `votedFor`, persisted before responding to RPCs). Within one incarnation
//! a vote, once cast, stays until the term moves on: changing it or forgetting it (back to
//! no vote) is a violation. Across a restart only a revealed vote counts: if a reply revealed
//! a vote for `a` in term `t`, the restarted peer must still show that vote whenever it is in
//! term `t`. An unrevealed vote may be lost in a crash (nobody counted it).

use super::{Breach, Property, Step};

/// Per peer, the highest term it revealed and the vote it revealed in it.
#[derive(Debug)]
pub(super) struct Votes {
    revealed: Vec<(u64, Option<usize>)>,
}

impl Votes {
    pub(super) fn new(peers: usize) -> Self {
        Votes {
            revealed: vec![(0, None); peers],
        }
    }

    /// §5.2 and Figure 2 `votedFor`: a vote in a term is never changed nor lost.
    pub(super) fn check(&mut self, step: &Step<'_>) -> Result<(), Breach> {
        let (peer, term, vote) = (step.peer, step.view.term, step.view.voted_for);
        if let Some(prev) = step.prev {
            if let (true, Some(earlier)) = (prev.term == term, prev.voted_for) {
                if vote != Some(earlier) {
                    return Err(Breach::new(
                        Property::OneVotePerTerm,
                        match vote {
                            Some(now) => format!(
                                "peer {peer} voted for {earlier} and then for {now} in term {term}"
                            ),
                            None => {
                                format!("peer {peer} forgot its vote for {earlier} in term {term}")
                            }
                        },
                    ));
                }
            }
        }
        let (revealed_term, revealed_vote) = self.revealed[peer];
        if let (true, Some(earlier)) = (revealed_term == term, revealed_vote) {
            if vote != Some(earlier) {
                let now = vote.map_or("no vote".to_string(), |now| format!("a vote for {now}"));
                return Err(Breach::new(
                    Property::OneVotePerTerm,
                    format!(
                        "peer {peer} revealed a vote for {earlier} in term {term} in an RPC \
                         reply, and after restarting (incarnation {}) shows {now} in that term",
                        step.incarnation
                    ),
                ));
            }
        }
        if step.revealed && (term > revealed_term || vote.is_some()) {
            self.revealed[peer] = (term, vote);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use lab_api::RaftView;

    use crate::invariants::Property;
    use crate::invariants::script::Script;

    fn vote(term: u64, voted_for: Option<usize>) -> RaftView {
        RaftView {
            term,
            voted_for,
            ..RaftView::default()
        }
    }

    #[test]
    fn silent_with_one_vote_per_term_and_unrevealed_votes_lost_in_crashes() {
        let mut script = Script::new(3);
        for term in 1..30 {
            let candidate = usize::try_from(term % 3).unwrap();
            script.reveal(0, vote(term, None)).unwrap();
            script.reveal(0, vote(term, Some(candidate))).unwrap();
            script.see(0, vote(term, Some(candidate))).unwrap();
        }
        // Peer 1 votes for 2 in term 4 in memory and crashes before replying: it may then
        // vote for 0 in term 4.
        script.reveal(1, vote(4, None)).unwrap();
        script.see(1, vote(4, Some(2))).unwrap();
        script.restart(1);
        script.see(1, vote(4, None)).unwrap();
        script.reveal(1, vote(4, Some(0))).unwrap();
        // A revealed vote survives the restart; a later term needs none.
        script.restart(1);
        script.see(1, vote(4, Some(0))).unwrap();
        script.see(1, vote(5, None)).unwrap();
        script.restart(1);
        script.see(1, vote(5, None)).unwrap();
    }

    #[test]
    fn fires_on_a_second_vote_in_a_term() {
        let mut script = Script::new(3);
        script.see(2, vote(3, Some(0))).unwrap();
        let violation = script.see(2, vote(3, Some(1))).unwrap_err();
        assert_eq!(violation.property, Property::OneVotePerTerm);
        assert_eq!(
            violation.detail,
            "peer 2 voted for 0 and then for 1 in term 3"
        );
    }

    #[test]
    fn fires_on_a_vote_forgotten_within_an_incarnation() {
        let mut script = Script::new(3);
        script.see(0, vote(7, Some(0))).unwrap();
        let violation = script.see(0, vote(7, None)).unwrap_err();
        assert_eq!(violation.property, Property::OneVotePerTerm);
        assert_eq!(violation.detail, "peer 0 forgot its vote for 0 in term 7");
    }

    #[test]
    fn fires_on_a_revealed_vote_changed_by_a_restart() {
        let mut script = Script::new(3);
        script.reveal(1, vote(4, Some(2))).unwrap();
        script.restart(1);
        let violation = script.see(1, vote(4, None)).unwrap_err();
        assert_eq!(violation.property, Property::OneVotePerTerm);
        assert!(
            violation.detail.ends_with("shows no vote in that term"),
            "{}",
            violation.detail
        );
        let mut script = Script::new(3);
        script.reveal(1, vote(4, Some(2))).unwrap();
        script.restart(1);
        let violation = script.see(1, vote(4, Some(0))).unwrap_err();
        assert_eq!(violation.property, Property::OneVotePerTerm);
        assert_eq!(
            violation.detail,
            "peer 1 revealed a vote for 2 in term 4 in an RPC reply, and after restarting \
             (incarnation 1) shows a vote for 0 in that term"
        );
    }
}
