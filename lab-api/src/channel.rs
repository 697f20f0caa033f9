//! The apply channel: a rendezvous, like the lab's unbuffered Go channel.
//!
//! A send completes only when the receiver has taken its message, so a peer that holds a lock
//! while sending can deadlock exactly as in Go. [`ApplySender::send_all`] is the Go loop
//! `for _, m := range msgs { applyCh <- m }` in one call: the receiver still takes the
//! messages one at a time, in order, but takes the next one without waiting for the sender to
//! run again, and the sender is woken once, when the last is taken. That is the only
//! difference from a loop of [`ApplySender::send`], and it is what keeps a peer that applies
//! thousands of entries a second from paying a task switch per entry.
//!
//! Dropping a pending send withdraws its messages the receiver has not taken yet (a cancelled
//! send delivers a prefix of what it was given, never a message after a gap), and
//! [`ApplySender::close`] withdraws every message not yet taken: a killed peer calls it so
//! that nothing of its reaches the harness after `kill` returns.

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::ApplyMsg;

/// The apply channel has no receiver any more (the harness dropped it, e.g. after a crash),
/// or a sender closed it ([`ApplySender::close`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the apply channel is closed")]
pub struct ApplyClosed;

/// The sending side of an apply channel (see the module docs).
#[derive(Debug)]
pub struct ApplySender(Arc<Shared>);

/// The receiving side of an apply channel.
#[derive(Debug)]
pub struct ApplyReceiver(Arc<Shared>);

/// A new rendezvous apply channel.
pub fn apply_channel() -> (ApplySender, ApplyReceiver) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            next_seq: 0,
            waiting_senders: Vec::new(),
            waiting_receivers: Vec::new(),
            senders: 1,
            receivers: 1,
            closed: false,
        }),
    });
    (ApplySender(Arc::clone(&shared)), ApplyReceiver(shared))
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
}

impl Shared {
    /// The state; a panic elsewhere while it was held leaves it consistent (every update is a
    /// single step), so a poisoned lock is used as it is.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Debug)]
struct State {
    /// Messages handed over and not yet taken, with their sequence numbers (increasing).
    queue: VecDeque<(u64, ApplyMsg)>,
    /// The sequence number of the next message handed over.
    next_seq: u64,
    /// Pending sends: each is done once every sequence number below its end is gone from
    /// the queue.
    waiting_senders: Vec<(u64, Waker)>,
    waiting_receivers: Vec<Waker>,
    senders: usize,
    receivers: usize,
    /// Set by [`ApplySender::close`] or when the last receiver is dropped.
    closed: bool,
}

impl State {
    /// The sequence number of the oldest message still waiting to be taken.
    fn oldest(&self) -> u64 {
        self.queue.front().map_or(self.next_seq, |(seq, _)| *seq)
    }

    fn wake_receivers(&mut self) {
        for waker in self.waiting_receivers.drain(..) {
            waker.wake();
        }
    }

    fn wake_senders(&mut self) {
        for (_, waker) in self.waiting_senders.drain(..) {
            waker.wake();
        }
    }

    /// Takes back the messages `[first, end)` that are still queued.
    fn withdraw(&mut self, first: u64, end: u64) {
        self.queue.retain(|(seq, _)| *seq < first || *seq >= end);
        self.waiting_senders.retain(|(e, _)| *e != end);
    }
}

impl ApplySender {
    /// Waits until the receiver takes `msg`.
    pub async fn send(&self, msg: ApplyMsg) -> Result<(), ApplyClosed> {
        self.send_all([msg]).await
    }

    /// Hands `msgs` over in order and waits until the receiver has taken the last of them:
    /// `send` of each in turn, without a task switch between two of them. On `Err` or when
    /// the future is dropped, a prefix of `msgs` may have been taken; the rest never will be.
    /// `msgs` is consumed under the channel's lock, so it should only build the messages.
    pub async fn send_all(
        &self,
        msgs: impl IntoIterator<Item = ApplyMsg>,
    ) -> Result<(), ApplyClosed> {
        let (first, end) = {
            let mut state = self.0.lock();
            if state.closed {
                return Err(ApplyClosed);
            }
            let first = state.next_seq;
            let mut seq = first;
            for msg in msgs {
                state.queue.push_back((seq, msg));
                seq += 1;
            }
            if seq == first {
                return Ok(());
            }
            state.next_seq = seq;
            state.wake_receivers();
            (first, seq)
        };
        Delivery {
            shared: &self.0,
            first,
            end,
            done: false,
        }
        .await
    }

    /// Closes the channel: every message not yet taken is withdrawn, pending and later sends
    /// fail, and the receiver sees the end. A peer calls it when it is killed, so that none
    /// of its messages reaches the harness afterwards.
    pub fn close(&self) {
        let mut state = self.0.lock();
        // The queued messages stay where they are until their senders withdraw them (at
        // their next poll, or when dropped): the receiver takes nothing after this.
        state.closed = true;
        state.wake_senders();
        state.wake_receivers();
    }
}

impl Clone for ApplySender {
    fn clone(&self) -> Self {
        self.0.lock().senders += 1;
        ApplySender(Arc::clone(&self.0))
    }
}

impl Drop for ApplySender {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.senders -= 1;
        if state.senders == 0 {
            state.wake_receivers();
        }
    }
}

/// A pending send: done once its messages `[first, end)` are all taken.
struct Delivery<'a> {
    shared: &'a Shared,
    first: u64,
    end: u64,
    done: bool,
}

impl Future for Delivery<'_> {
    type Output = Result<(), ApplyClosed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.shared.lock();
        if state.oldest() >= self.end {
            drop(state);
            self.done = true;
            return Poll::Ready(Ok(()));
        }
        if state.closed {
            state.withdraw(self.first, self.end);
            drop(state);
            self.done = true;
            return Poll::Ready(Err(ApplyClosed));
        }
        let end = self.end;
        match state.waiting_senders.iter_mut().find(|(e, _)| *e == end) {
            Some((_, waker)) => waker.clone_from(cx.waker()),
            None => state.waiting_senders.push((end, cx.waker().clone())),
        }
        Poll::Pending
    }
}

impl Drop for Delivery<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.shared.lock().withdraw(self.first, self.end);
        }
    }
}

impl ApplyReceiver {
    /// The next message, or `None` once the channel is closed or every sender is gone.
    pub async fn recv(&self) -> Option<ApplyMsg> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<ApplyMsg>> {
        let mut state = self.0.lock();
        if state.closed {
            return Poll::Ready(None);
        }
        if let Some((_, msg)) = state.queue.pop_front() {
            if !state.waiting_senders.is_empty() {
                let oldest = state.oldest();
                let mut i = 0;
                while i < state.waiting_senders.len() {
                    if state.waiting_senders[i].0 <= oldest {
                        state.waiting_senders.swap_remove(i).1.wake();
                    } else {
                        i += 1;
                    }
                }
            }
            return Poll::Ready(Some(msg));
        }
        if state.senders == 0 {
            return Poll::Ready(None);
        }
        if !state
            .waiting_receivers
            .iter()
            .any(|w| w.will_wake(cx.waker()))
        {
            state.waiting_receivers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

impl Clone for ApplyReceiver {
    fn clone(&self) -> Self {
        self.0.lock().receivers += 1;
        ApplyReceiver(Arc::clone(&self.0))
    }
}

impl Drop for ApplyReceiver {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.receivers -= 1;
        if state.receivers == 0 {
            state.closed = true;
            state.wake_senders();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use bytes::Bytes;

    use super::*;

    fn cmd(index: u64) -> ApplyMsg {
        ApplyMsg::Command {
            index,
            command: Bytes::from(index.to_le_bytes().to_vec()),
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn send_completes_only_when_taken() {
        runtime().block_on(async {
            let (tx, rx) = apply_channel();
            let sent = Arc::new(AtomicUsize::new(0));
            let count = Arc::clone(&sent);
            let task = tokio::spawn(async move {
                tx.send(cmd(1)).await.unwrap();
                count.fetch_add(1, Ordering::SeqCst);
            });
            for _ in 0..10 {
                tokio::task::yield_now().await;
            }
            assert_eq!(
                sent.load(Ordering::SeqCst),
                0,
                "send returned before a receive"
            );
            assert_eq!(rx.recv().await, Some(cmd(1)));
            task.await.unwrap();
            assert_eq!(sent.load(Ordering::SeqCst), 1);
            assert_eq!(rx.recv().await, None, "the sender is gone");
        });
    }

    #[test]
    fn send_all_delivers_in_order_and_waits_for_the_last() {
        runtime().block_on(async {
            let (tx, rx) = apply_channel();
            let done = Arc::new(AtomicUsize::new(0));
            let flag = Arc::clone(&done);
            let task = tokio::spawn(async move {
                tx.send_all((1..=5).map(cmd)).await.unwrap();
                flag.store(1, Ordering::SeqCst);
                tx.send(cmd(6)).await.unwrap();
            });
            tokio::task::yield_now().await;
            for i in 1..=4 {
                assert_eq!(rx.recv().await, Some(cmd(i)));
            }
            for _ in 0..10 {
                tokio::task::yield_now().await;
            }
            assert_eq!(
                done.load(Ordering::SeqCst),
                0,
                "returned with one still queued"
            );
            assert_eq!(rx.recv().await, Some(cmd(5)));
            assert_eq!(rx.recv().await, Some(cmd(6)));
            assert_eq!(done.load(Ordering::SeqCst), 1);
            task.await.unwrap();
            assert_eq!(rx.recv().await, None);
        });
    }

    #[test]
    fn a_dropped_send_withdraws_what_was_not_taken() {
        runtime().block_on(async {
            let (tx, rx) = apply_channel();
            {
                let send = tx.send_all((1..=3).map(cmd));
                tokio::pin!(send);
                assert!(futures_poll_once(send.as_mut()).await.is_pending());
                assert_eq!(rx.recv().await, Some(cmd(1)));
            }
            // Messages 2 and 3 are gone; the next send is the next message received.
            let task = tokio::spawn(async move { tx.send(cmd(9)).await });
            assert_eq!(rx.recv().await, Some(cmd(9)));
            assert_eq!(task.await.unwrap(), Ok(()));
        });
    }

    #[test]
    fn close_withdraws_everything_and_ends_both_sides() {
        runtime().block_on(async {
            let (tx, rx) = apply_channel();
            let closer = tx.clone();
            let task = tokio::spawn(async move { tx.send_all((1..=3).map(cmd)).await });
            tokio::task::yield_now().await;
            assert_eq!(rx.recv().await, Some(cmd(1)));
            closer.close();
            assert_eq!(rx.recv().await, None, "nothing after close");
            assert_eq!(task.await.unwrap(), Err(ApplyClosed));
            assert_eq!(closer.send(cmd(4)).await, Err(ApplyClosed));
        });
    }

    #[test]
    fn dropping_the_receiver_fails_pending_and_later_sends() {
        runtime().block_on(async {
            let (tx, rx) = apply_channel();
            let tx = Arc::new(tx);
            let sender = Arc::clone(&tx);
            let task = tokio::spawn(async move { sender.send(cmd(1)).await });
            tokio::task::yield_now().await;
            drop(rx);
            assert_eq!(task.await.unwrap(), Err(ApplyClosed));
            assert_eq!(tx.send(cmd(2)).await, Err(ApplyClosed));
        });
    }

    #[test]
    fn an_empty_send_all_is_done_at_once() {
        runtime().block_on(async {
            let (tx, _rx) = apply_channel();
            assert_eq!(tx.send_all(std::iter::empty()).await, Ok(()));
        });
    }

    #[test]
    fn many_senders_and_a_receiver_on_threads() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        rt.block_on(async {
            let (tx, rx) = apply_channel();
            let mut tasks = Vec::new();
            for s in 0..4u64 {
                let tx = tx.clone();
                tasks.push(tokio::spawn(async move {
                    for k in 0..250u64 {
                        let base = s * 1_000_000 + k * 10;
                        tx.send_all((0..3).map(|j| cmd(base + j))).await.unwrap();
                    }
                }));
            }
            drop(tx);
            let mut last = [None::<u64>; 4];
            let mut count = 0;
            while let Some(ApplyMsg::Command { index, .. }) = rx.recv().await {
                let s = (index / 1_000_000) as usize;
                // Each sender's messages arrive in its order.
                assert!(last[s].is_none_or(|l| l < index));
                last[s] = Some(index);
                count += 1;
            }
            assert_eq!(count, 4 * 250 * 3);
            for t in tasks {
                t.await.unwrap();
            }
        });
    }

    /// Polls a future once.
    async fn futures_poll_once<F: Future + Unpin>(mut f: F) -> Poll<F::Output> {
        poll_fn(|cx| Poll::Ready(Pin::new(&mut f).poll(cx))).await
    }
}
