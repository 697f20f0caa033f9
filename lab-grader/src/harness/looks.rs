//! One look at a time per peer, in the order the looks were read.
//!
//! The harness looks at a peer (reads its `inspect()` view, then hands it to the monitor)
//! from several places: after an RPC it handled, after each apply, every 10 ms, before a
//! crash. In real time these run on two worker threads, so two looks at the same peer can
//! overlap: a view read earlier could reach the monitor after a view read later, and the
//! monitor would see the log shrink (issue 24: `reliable_churn_2c --real-time` failed a
//! correct Raft that way). Holding a grader lock while calling into the peer would order
//! them, but a peer can block inside `inspect` (its own lock) while one of its tasks is inside
//! the harness, so no lock of ours is held across a call into a peer.
//!
//! A [`LookGate`] per peer orders them without blocking: the first caller becomes the looker
//! and reads and observes; a caller that arrives while a look is under way only leaves a note
//! ("look again", and whether the peer had just answered an RPC) and returns at once; the
//! looker, before it leaves, looks again for every note left meanwhile. So at most one view of
//! a peer is between read and observed at any moment, each observation is newer than the one
//! before it, and no request for a look is lost: the extra look is read after the request was
//! made. Each look gets a sequence number under the gate, which the monitor also checks.

use std::ops::DerefMut;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lab_api::{LabRaft, RaftChange};

use super::context::{HotLock, TestContext};
use crate::fail::Fail;
use crate::invariants::{ChangeObservation, Intake, Monitor};
use crate::panics::as_peer;
use crate::trace::Event;

/// The state of one peer's gate.
#[derive(Debug, Default)]
struct Gate {
    /// A look at this peer is being read or observed right now.
    busy: bool,
    /// Someone asked for a look while `busy`: the looker looks once more.
    again: bool,
    /// Some of those requests came right after the peer answered an RPC.
    again_revealed: bool,
    /// Looks handed out so far (the next look's number).
    seq: u64,
    /// What the last look saw of the peer's view version (taken by the looker while busy).
    seen: Option<ViewSeen>,
}

/// What the last look at a peer saw of its [`LabRaft::view_version`]: a look that finds the
/// same number could only show the monitor the view it holds, which the monitor would skip
/// (`Monitor::take`), so the harness skips it before asking the peer for its view. Most looks
/// are such repeats (the inspector looks at every peer every 10 ms, and a look follows every
/// apply), and a skipped one costs a load instead of a look (issue 28).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ViewSeen {
    /// The peer's incarnation it was read in (a restarted peer counts afresh).
    incarnation: u64,
    /// The number read before the view.
    version: u64,
    /// The monitor holds that view as shown right after an RPC: a look that follows an RPC
    /// is a repeat too (a plain look is a repeat either way).
    revealed: bool,
}

impl ViewSeen {
    /// Whether a look of peer `incarnation`, which just answered `version`, would repeat the
    /// look this was read in (`revealed`: the look follows an RPC the peer answered).
    fn repeated_by(self, incarnation: u64, version: Option<u64>, revealed: bool) -> bool {
        Some(self.version) == version
            && self.incarnation == incarnation
            && (self.revealed || !revealed)
    }

    /// In one word, for [`LookGate::repeats`]: 0 when it does not fit (never skipped).
    fn pack(seen: Option<ViewSeen>) -> u64 {
        match seen {
            Some(s) if s.incarnation < 1 << 20 && s.version < 1 << 42 => {
                1 << 63 | u64::from(s.revealed) << 62 | s.incarnation << 42 | s.version
            }
            _ => 0,
        }
    }

    fn unpack(word: u64) -> Option<ViewSeen> {
        (word >> 63 == 1).then_some(ViewSeen {
            incarnation: (word >> 42) & ((1 << 20) - 1),
            version: word & ((1 << 42) - 1),
            revealed: (word >> 62) & 1 == 1,
        })
    }
}

/// Serialises the looks at one peer (see the module doc).
#[derive(Debug, Default)]
pub struct LookGate {
    /// Taken twice per look.
    gate: HotLock<Gate>,
    /// The last finished look's [`ViewSeen`] ([`ViewSeen::pack`]), read without the lock.
    published: AtomicU64,
}

/// Clears `busy` if a look panics (a peer's `inspect` may), so later looks still run.
struct Leave<'a>(&'a LookGate);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.published.store(0, Ordering::Release);
        let mut gate = self.0.gate.lock();
        gate.busy = false;
        gate.again = false;
        gate.again_revealed = false;
    }
}

impl LookGate {
    /// Whether a look at peer `incarnation`, which just answered `version` from
    /// [`LabRaft::view_version`], could only repeat the last finished look: then it need not
    /// even enter the gate (a look under way shows the monitor that same view, or a newer
    /// one if the number moved since). Costs a load.
    pub fn repeats(&self, incarnation: u64, version: Option<u64>, revealed: bool) -> bool {
        version.is_some()
            && ViewSeen::unpack(self.published.load(Ordering::Acquire))
                .is_some_and(|seen| seen.repeated_by(incarnation, version, revealed))
    }

    /// Looks at `peer` (a peer and its incarnation) unless the look could only repeat the
    /// last finished one ([`LookGate::repeats`]): `look` as [`LookGate::run`]'s, given the
    /// peer to look at, which is `peer` the first time and `again()` (read anew) for a look
    /// asked for meanwhile.
    pub fn run_for<R: LabRaft + ?Sized>(
        &self,
        (rf, incarnation): (&Arc<R>, u64),
        revealed: bool,
        again: impl Fn() -> Option<(Arc<R>, u64)>,
        mut look: impl FnMut(Option<(Arc<R>, u64)>, u64, bool, &mut Option<ViewSeen>),
    ) {
        if self.repeats(incarnation, rf.view_version(), revealed) {
            return;
        }
        let mut first = Some((Arc::clone(rf), incarnation));
        self.run(revealed, |seq, revealed, last| {
            let peer = first.take().or_else(&again);
            look(peer, seq, revealed, last);
        });
    }

    /// Runs `look(seq, revealed, seen)` now, or leaves it to the look under way (which then
    /// runs it again after itself). `seen` is what the last look left there (see
    /// [`ViewSeen`]; lost if a look panics). `look` must not call [`LookGate::run`] on the
    /// same gate.
    pub fn run(&self, revealed: bool, mut look: impl FnMut(u64, bool, &mut Option<ViewSeen>)) {
        let (mut seq, mut seen) = {
            let mut gate = self.gate.lock();
            if gate.busy {
                gate.again = true;
                gate.again_revealed |= revealed;
                return;
            }
            gate.busy = true;
            gate.seq += 1;
            (gate.seq, gate.seen.take())
        };
        let leave = Leave(self);
        let mut revealed = revealed;
        loop {
            look(seq, revealed, &mut seen);
            let mut gate = self.gate.lock();
            if !gate.again {
                // Leave under this lock (one lock fewer per look than `leave`'s).
                gate.busy = false;
                gate.again_revealed = false;
                gate.seen = seen;
                self.published
                    .store(ViewSeen::pack(seen), Ordering::Release);
                std::mem::forget(leave);
                return;
            }
            gate.again = false;
            revealed = std::mem::take(&mut gate.again_revealed);
            gate.seq += 1;
            seq = gate.seq;
        }
    }
}

/// What one look is of: peer `peer` in its `incarnation`, the `seq`-th look handed out by its
/// [`LookGate`], `revealed` when it follows an RPC the peer answered.
#[derive(Clone, Copy, Debug)]
pub struct LookAt {
    /// The peer's index.
    pub peer: usize,
    /// 0 for its first start, one more for each restart.
    pub incarnation: u64,
    /// The look's number.
    pub seq: u64,
    /// Whether it follows an RPC the peer answered.
    pub revealed: bool,
}

/// One look at `rf` under its gate, for a harness's `LookGate::run`: asks for what changed
/// since what the monitor holds ([`LabRaft::inspect_since`]; the whole view when the monitor
/// needs it), hands each answer to `seen` (the record's `state` events) and then to the
/// monitor, and fails `t` at a violation. So a look costs what changed, not the log's length
/// (issue 28); and one that could only repeat the last (the same [`LabRaft::view_version`]
/// as `last`) costs nothing more. `monitor` takes the monitor's lock (never held while the
/// peer answers); `at` is the virtual time since the test began.
pub fn look_at<R, G>(
    t: &TestContext,
    monitor: impl Fn() -> G,
    rf: &R,
    look: LookAt,
    last: &mut Option<ViewSeen>,
    at: impl FnOnce() -> Duration,
    mut seen: impl FnMut(&RaftChange),
) where
    R: LabRaft + ?Sized,
    G: DerefMut<Target = Monitor>,
{
    // Read before the view: a change after this read gives the next look another number.
    // Not as the peer (`as_peer`'s bookkeeping would cost more than a skipped look): the
    // method must not block, and a panic in it still fails the test, with its message.
    let version = rf.view_version();
    let shown_revealed = match last.take() {
        Some(l) if l.repeated_by(look.incarnation, version, look.revealed) => {
            *last = Some(l);
            return;
        }
        // A revealed look of a view the monitor holds unrevealed.
        Some(l) => l.repeated_by(look.incarnation, version, false),
        None => false,
    };
    let mark = monitor().mark(look.peer, look.incarnation);
    let Some(change) = as_peer(look.peer, || rf.inspect_since(mark)) else {
        return;
    };
    seen(&change);
    let observation = ChangeObservation {
        peer: look.peer,
        seq: look.seq,
        incarnation: look.incarnation,
        at: at(),
        revealed: look.revealed,
        change: &change,
    };
    let result = match monitor().observe_change(&observation) {
        Ok(Intake::WholeViewNeeded) => {
            let Some(view) = as_peer(look.peer, || rf.inspect()) else {
                return;
            };
            let whole = RaftChange::from(view);
            seen(&whole);
            let observation = ChangeObservation {
                change: &whole,
                ..observation
            };
            monitor().observe_change(&observation)
        }
        other => other,
    };
    match result {
        Ok(Intake::Taken) => {
            *last = version.map(|version| ViewSeen {
                incarnation: look.incarnation,
                version,
                revealed: look.revealed || shown_revealed,
            });
        }
        Ok(Intake::WholeViewNeeded) => {}
        Err(violation) => {
            t.note(Event::Violation {
                property: violation.property.name(),
                section: violation.property.section(),
                detail: violation.detail.clone(),
                message: violation.to_string(),
            });
            t.fail(Fail::Safety(violation));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::{Arc, Barrier};

    use super::LookGate;

    #[test]
    fn a_look_asked_for_during_another_runs_after_it_with_a_higher_number() {
        let gate = Arc::new(LookGate::default());
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let inside = Arc::new(Barrier::new(2));
        let asked = Arc::new(Barrier::new(2));
        let first = {
            let (gate, seen, inside, asked) =
                (gate.clone(), seen.clone(), inside.clone(), asked.clone());
            std::thread::spawn(move || {
                let mut calls = 0;
                gate.run(false, |seq, revealed, _| {
                    seen.lock().unwrap().push((seq, revealed));
                    calls += 1;
                    if calls == 1 {
                        inside.wait(); // the second thread may ask now
                        asked.wait(); // and has asked
                    }
                });
            })
        };
        inside.wait();
        // Returns at once: the look under way will look again on our behalf.
        gate.run(true, |_, _, _| {
            panic!("the second caller must not look itself")
        });
        asked.wait();
        first.join().unwrap();
        assert_eq!(*seen.lock().unwrap(), vec![(1, false), (2, true)]);
    }

    #[test]
    fn looks_of_many_threads_never_overlap_and_numbers_only_grow() {
        let gate = Arc::new(LookGate::default());
        let busy = Arc::new(AtomicBool::new(false));
        let last = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (gate, busy, last) = (gate.clone(), busy.clone(), last.clone());
                std::thread::spawn(move || {
                    for _ in 0..2000 {
                        gate.run(false, |seq, _, _| {
                            assert!(!busy.swap(true, Ordering::SeqCst), "two looks at once");
                            assert!(seq > last.swap(seq, Ordering::SeqCst), "numbers went back");
                            busy.store(false, Ordering::SeqCst);
                        });
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert!(last.load(Ordering::SeqCst) >= 1);
    }

    #[test]
    fn a_panicking_look_leaves_the_gate_open() {
        let gate = LookGate::default();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            gate.run(false, |_, _, _| panic!("inspect panicked"));
        }));
        assert!(panicked.is_err());
        let mut ran = false;
        gate.run(false, |_, _, _| ran = true);
        assert!(ran);
    }
}
