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
