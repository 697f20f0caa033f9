//! What one thread of a test is inside of, written by that thread alone and read by the
//! watchdog without stopping it.
//!
//! The task hooks note the start and end of every poll, and the harness every call it makes
//! into a peer. Under one lock shared by the test's threads that was two locked instructions
//! per poll, the hooks' whole cost (issue 28). A lane is one thread's stack of what it is
//! inside of, with a single writer, published like a sequence lock: the writer makes the
//! sequence odd, writes, and makes it even again (plain stores on x86); a reader retries
//! while the sequence is odd or moved under it. Every field is an atomic, so a torn read is
//! never undefined, only retried.

use std::hint::spin_loop;
use std::sync::atomic::{AtomicU64, Ordering, fence};

/// Frames kept per lane: a poll, a call of the harness inside it, a handler inside that.
/// Deeper frames are counted but not kept (the watchdog then names the deepest kept one).
const DEPTH: usize = 8;

/// A reader gives up after this many tries (a writer is never inside its few stores for
/// long; this only bounds a reader that races a thread writing in a tight loop).
const TRIES: usize = 1 << 16;

/// One frame: what it is and its number.
#[derive(Default)]
struct Slot {
    what: AtomicU64,
    number: AtomicU64,
}

/// A frame of a lane, as the owner writes it and a reader gets it back: a poll of a task of
/// `peer` spawned at the `at`-th location the scope interned (0: unknown), or a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Frame {
    /// A poll of a task.
    Poll {
        /// The task's peer, if known.
        peer: Option<usize>,
        /// 1 + the index of where it was spawned in the scope's table, 0 when unknown.
        at: u32,
    },
    /// A call of the harness into a peer.
    Call {
        /// The peer.
        peer: usize,
    },
}

const CALL: u64 = 1 << 63;

impl Frame {
    fn encode(self) -> u64 {
        match self {
            Frame::Poll { peer, at } => {
                let peer = peer.map_or(0, |p| (p as u64 + 1) & 0xffff_ffff);
                (u64::from(at) << 32) | peer
            }
            Frame::Call { peer } => CALL | (peer as u64 & 0xffff_ffff),
        }
    }

    fn decode(what: u64) -> Frame {
        let low = what & 0xffff_ffff;
        if what & CALL != 0 {
            return Frame::Call { peer: low as usize };
        }
        Frame::Poll {
            peer: low.checked_sub(1).map(|p| p as usize),
            at: ((what >> 32) & 0x7fff_ffff) as u32,
        }
    }
}

/// One thread's lane (see the module doc). Only its owner thread calls the `&self` writers
/// (`push`, `pop`, `count_poll`, `publish_busiest`); any thread may read.
#[derive(Default)]
pub(crate) struct Lane {
    /// Odd while the owner writes `depth` and `slots`.
    seq: AtomicU64,
    /// Frames open now (may exceed [`DEPTH`]).
    depth: AtomicU64,
    slots: [Slot; DEPTH],
    /// Frames begun so far on this thread: the watchdog's measure of progress.
    entries: AtomicU64,
    /// Task polls begun so far on this thread.
    polls: AtomicU64,
    /// The most polls one task had on this thread, and that task's frame (`Frame::encode`):
    /// two loads a reader may see from two moments, which only misnames a close second.
    busiest_polls: AtomicU64,
    busiest_what: AtomicU64,
}

impl Lane {
    /// Opens a frame (owner only); returns its number.
    pub(crate) fn push(&self, frame: Frame) -> u64 {
        let number = self.entries.load(Ordering::Relaxed);
        self.entries.store(number + 1, Ordering::Relaxed);
        let depth = self.depth.load(Ordering::Relaxed);
        self.write(|| {
            if let Some(slot) = usize::try_from(depth).ok().and_then(|d| self.slots.get(d)) {
                slot.what.store(frame.encode(), Ordering::Relaxed);
                slot.number.store(number, Ordering::Relaxed);
            }
            self.depth.store(depth + 1, Ordering::Relaxed);
        });
        number
    }

    /// Closes the innermost frame (owner only) and returns it, if it was kept.
    pub(crate) fn pop(&self) -> Option<Frame> {
        let depth = self.depth.load(Ordering::Relaxed).checked_sub(1)?;
        let slot = usize::try_from(depth).ok().and_then(|d| self.slots.get(d));
        let frame = slot.map(|s| Frame::decode(s.what.load(Ordering::Relaxed)));
        self.write(|| self.depth.store(depth, Ordering::Relaxed));
        frame
    }

    /// One more task poll (owner only); returns the count so far.
    pub(crate) fn count_poll(&self) -> u64 {
        let polls = self.polls.load(Ordering::Relaxed) + 1;
        self.polls.store(polls, Ordering::Relaxed);
        polls
    }

    /// A task reached `polls` polls on this thread (owner only): it becomes the busiest if
    /// no task had more.
    pub(crate) fn publish_busiest(&self, polls: u64, frame: Frame) {
        if polls > self.busiest_polls.load(Ordering::Relaxed) {
            self.busiest_what.store(frame.encode(), Ordering::Relaxed);
            self.busiest_polls.store(polls, Ordering::Relaxed);
        }
    }

    /// The owner's write section: odd sequence, `f`, even sequence.
    fn write(&self, f: impl FnOnce()) {
        let seq = self.seq.load(Ordering::Relaxed);
        self.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        f();
        self.seq.store(seq.wrapping_add(2), Ordering::Release);
    }

    /// The innermost frame kept and its number, read consistently; `None` when the thread is
    /// inside of nothing (or the read kept racing the writer).
    pub(crate) fn innermost(&self) -> Option<(Frame, u64)> {
        for _ in 0..TRIES {
            let before = self.seq.load(Ordering::Acquire);
            if before % 2 == 1 {
                spin_loop();
                continue;
            }
            let depth = self.depth.load(Ordering::Relaxed);
            let read = depth.checked_sub(1).map(|d| {
                let d = usize::try_from(d).unwrap_or(usize::MAX).min(DEPTH - 1);
                let slot = &self.slots[d];
                (
                    slot.what.load(Ordering::Relaxed),
                    slot.number.load(Ordering::Relaxed),
                )
            });
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == before {
                return read.map(|(what, number)| (Frame::decode(what), number));
            }
            spin_loop();
        }
        None
    }

    /// Frames begun so far.
    pub(crate) fn entries(&self) -> u64 {
        self.entries.load(Ordering::Relaxed)
    }

    /// Task polls so far.
    pub(crate) fn polls(&self) -> u64 {
        self.polls.load(Ordering::Relaxed)
    }

    /// The busiest task's polls on this thread and its frame, once a task was polled.
    pub(crate) fn busiest(&self) -> Option<(u64, Frame)> {
        let polls = self.busiest_polls.load(Ordering::Relaxed);
        let what = self.busiest_what.load(Ordering::Relaxed);
        (polls > 0).then(|| (polls, Frame::decode(what)))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::{DEPTH, Frame, Lane};

    #[test]
    fn frames_come_back_as_pushed_innermost_first() {
        let lane = Lane::default();
        assert_eq!(lane.innermost(), None);
        let poll = Frame::Poll {
            peer: Some(3),
            at: 7,
        };
        let call = Frame::Call { peer: 4 };
        assert_eq!(lane.push(poll), 0);
        assert_eq!(lane.push(call), 1);
        assert_eq!(lane.innermost(), Some((call, 1)));
        assert_eq!(lane.pop(), Some(call));
        assert_eq!(lane.innermost(), Some((poll, 0)));
        assert_eq!(lane.pop(), Some(poll));
        assert_eq!(lane.pop(), None);
        assert_eq!(lane.innermost(), None);
        assert_eq!(lane.entries(), 2);
        let unknown = Frame::Poll { peer: None, at: 0 };
        lane.push(unknown);
        assert_eq!(lane.innermost(), Some((unknown, 2)));
    }

    #[test]
    fn frames_deeper_than_kept_are_counted_and_the_deepest_kept_is_named() {
        let lane = Lane::default();
        for peer in 0..DEPTH + 3 {
            lane.push(Frame::Call { peer });
        }
        assert_eq!(
            lane.innermost().map(|(f, _)| f),
            Some(Frame::Call { peer: DEPTH - 1 })
        );
        for _ in 0..3 {
            assert_eq!(lane.pop(), None);
        }
        assert_eq!(lane.pop(), Some(Frame::Call { peer: DEPTH - 1 }));
    }

    #[test]
    fn the_busiest_task_is_the_one_polled_most() {
        let lane = Lane::default();
        assert_eq!(lane.busiest(), None);
        let a = Frame::Poll {
            peer: Some(0),
            at: 1,
        };
        let b = Frame::Poll { peer: None, at: 2 };
        lane.publish_busiest(1, a);
        lane.publish_busiest(1, b);
        assert_eq!(lane.busiest(), Some((1, a)));
        lane.publish_busiest(5, b);
        lane.publish_busiest(4, a);
        assert_eq!(lane.busiest(), Some((5, b)));
    }

    /// A reader racing the writer sees only frames the writer wrote, paired with their own
    /// numbers (each frame's peer is its number here).
    #[test]
    fn a_reader_racing_the_writer_sees_whole_frames() {
        let lane = Arc::new(Lane::default());
        let stop = Arc::new(AtomicBool::new(false));
        let reader = {
            let (lane, stop) = (lane.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut seen = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    if let Some((Frame::Call { peer }, number)) = lane.innermost() {
                        assert_eq!(peer as u64, number % (1 << 32));
                        seen += 1;
                    }
                }
                seen
            })
        };
        for n in 0..200_000u64 {
            lane.push(Frame::Call {
                peer: (n % (1 << 32)) as usize,
            });
            lane.pop();
        }
        stop.store(true, Ordering::Relaxed);
        let _ = reader.join().expect("reader");
    }
}
