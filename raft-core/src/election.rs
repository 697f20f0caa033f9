//! Leader election (5.2) and the election restriction (5.4.1).
//!
//! A follower that hears nothing from a leader for a randomized election timeout becomes a
//! candidate: it increments its term, votes for itself, persists, and asks every other peer
//! for a vote. A peer grants at most one vote per term, first come first served, and only to
//! a candidate whose log is at least as up to date as its own (5.4.1: compare last terms,
//! then last indexes), so a leader always holds every committed entry. A candidate with
//! votes from a majority becomes leader; any message with a higher term turns anyone back
//! into a follower of that term (5.1).

use std::collections::BTreeSet;

use crate::message::{Request, RequestVoteArgs, RequestVoteReply};
use crate::raft::Raft;
use crate::role::{LeaderState, RoleState};
use crate::types::{PeerId, Term};

impl Raft {
    /// 5.1 "if RPC request or response contains term T > currentTerm: set currentTerm = T,
    /// convert to follower". Returns whether the term changed.
    pub(crate) fn observe_term(&mut self, term: Term) -> bool {
        if term <= self.current_term {
            return false;
        }
        self.current_term = term;
        self.voted_for = None;
        self.leader_hint = None;
        self.persist_hard_state();
        self.become_follower();
        true
    }

    /// Converts to follower in the current term (keeps the vote).
    pub(crate) fn become_follower(&mut self) {
        if !matches!(self.role, RoleState::Follower) {
            self.role = RoleState::Follower;
            self.reset_election_timer();
        }
    }

    /// 5.2 "on conversion to candidate, start election": increment currentTerm, vote for
    /// self, reset the election timer, send RequestVote to all other servers.
    pub(crate) fn start_election(&mut self) {
        self.current_term = Term(self.current_term.0 + 1);
        self.voted_for = Some(self.config.id);
        self.leader_hint = None;
        self.persist_hard_state();
        self.reset_election_timer();
        self.role = RoleState::Candidate {
            votes: BTreeSet::from([self.config.id]),
        };
        if self.config.quorum() <= 1 {
            self.become_leader();
            return;
        }
        let args = RequestVoteArgs {
            term: self.current_term,
            candidate_id: self.config.id,
            last_log_index: self.log.last_index(),
            last_log_term: self.log.last_term(),
        };
        for peer in self.config.others() {
            self.send(peer, Request::Vote(args.clone()));
        }
    }

    /// RequestVote receiver (Figure 2): reply false if term < currentTerm; grant if votedFor
    /// is null or candidateId and the candidate's log is at least as up to date (5.4.1).
    /// Granting resets the election timer and is persisted before the reply goes out.
    pub(crate) fn handle_request_vote(&mut self, args: RequestVoteArgs) -> RequestVoteReply {
        self.observe_term(args.term);
        let vote_free = self.voted_for.is_none_or(|v| v == args.candidate_id);
        let grant = args.term == self.current_term
            && vote_free
            && self
                .log
                .is_up_to_date(args.last_log_index, args.last_log_term);
        if grant {
            if self.voted_for != Some(args.candidate_id) {
                self.voted_for = Some(args.candidate_id);
                self.persist_hard_state();
            }
            self.reset_election_timer();
        }
        RequestVoteReply {
            term: self.current_term,
            vote_granted: grant,
        }
    }

    /// Candidate counting votes (5.2): "if votes received from majority of servers: become
    /// leader". Replies to an earlier term's request are ignored.
    pub(crate) fn handle_vote_reply(
        &mut self,
        from: PeerId,
        args: &RequestVoteArgs,
        reply: RequestVoteReply,
    ) {
        if args.term != self.current_term || !reply.vote_granted {
            return;
        }
        let mut quorum = self.config.quorum();
        if self.config.bug == Some(crate::Bug::CountVotesWrong) {
            quorum -= 1;
        }
        let RoleState::Candidate { votes } = &mut self.role else {
            return;
        };
        votes.insert(from);
        if votes.len() >= quorum {
            self.become_leader();
        }
    }

    /// Figure 2 "upon election": initialize next_index to last log index + 1 and match_index
    /// to 0 for each follower, then send initial empty AppendEntries (heartbeats) at once.
    pub(crate) fn become_leader(&mut self) {
        let last = self.log.last_index();
        let mut leader = LeaderState::new(self.config.peers, last);
        leader.progress[self.config.id.0].match_index = last;
        self.role = RoleState::Leader(leader);
        self.leader_hint = Some(self.config.id);
        self.broadcast_heartbeat();
        // A single-peer cluster commits on its own.
        self.leader_advance_commit();
    }
}

#[cfg(test)]
mod tests {
    use crate::{Config, LogIndex, PeerId, Raft, Request, RequestVoteArgs, Response, Role, Term};

    fn vote(term: u64, candidate: usize, last: (u64, u64)) -> Request {
        Request::Vote(RequestVoteArgs {
            term: Term(term),
            candidate_id: PeerId(candidate),
            last_log_index: LogIndex(last.0),
            last_log_term: Term(last.1),
        })
    }

    fn granted(r: Response) -> bool {
        matches!(r, Response::Vote(v) if v.vote_granted)
    }

    #[test]
    fn one_vote_per_term_first_come_first_served() {
        let mut r = Raft::new(Config::lab(PeerId(0), 3), 1);
        assert!(granted(r.step_request(PeerId(1), vote(1, 1, (0, 0)))));
        assert_eq!(
            r.ready().persist.hard_state.map(|h| h.voted_for),
            Some(Some(PeerId(1)))
        );
        assert!(!granted(r.step_request(PeerId(2), vote(1, 2, (0, 0)))));
        // The same candidate asking again (a retransmission) gets the vote again.
        assert!(granted(r.step_request(PeerId(1), vote(1, 1, (0, 0)))));
        // A new term frees the vote.
        assert!(granted(r.step_request(PeerId(2), vote(2, 2, (0, 0)))));
        assert_eq!(r.current_term(), Term(2));
    }

    #[test]
    fn election_restriction_compares_last_term_then_index() {
        let mut r = Raft::new(Config::lab(PeerId(0), 3), 1);
        // Become leader of term 1 alone? No: give ourselves a log via an AppendEntries.
        let append = Request::Append(crate::AppendEntriesArgs {
            term: Term(2),
            leader_id: PeerId(1),
            prev_log_index: LogIndex(0),
            prev_log_term: Term(0),
            entries: vec![
                crate::Entry {
                    term: Term(1),
                    command: bytes::Bytes::new(),
                },
                crate::Entry {
                    term: Term(2),
                    command: bytes::Bytes::new(),
                },
            ],
            leader_commit: LogIndex(0),
        });
        r.step_request(PeerId(1), append);
        assert!(
            !granted(r.step_request(PeerId(2), vote(3, 2, (5, 1)))),
            "older last term"
        );
        assert!(
            !granted(r.step_request(PeerId(2), vote(4, 2, (1, 2)))),
            "shorter, same term"
        );
        assert!(
            granted(r.step_request(PeerId(2), vote(5, 2, (2, 2)))),
            "equal logs"
        );
        assert!(
            granted(r.step_request(PeerId(1), vote(6, 1, (1, 3)))),
            "newer last term"
        );
        assert_eq!(r.role(), Role::Follower);
    }
}
