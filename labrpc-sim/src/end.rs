//! The caller's handle and the request path: labrpc's `ClientEnd.Call` and `processReq`
//! (spec 1.3, 1.4), run inline in the caller's future. A handler that does not finish at its
//! first poll moves to its own task, so it goes on even if the caller stops waiting, as a Go
//! handler goroutine would; one that finishes at once (the Raft handlers do) costs neither a
//! task nor a timer. Either way a panicking handler is a lost reply, not a caller panic.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::Poll;

use futures::FutureExt;
use tokio::task::JoinHandle;

use crate::network::{DEAD_POLL, Submission, Target};
use crate::observe::{CallEvent, CallStage};
use crate::server::HandlerError;
use crate::{Bytes, Network, RpcError, Transport, codec};

/// A caller's handle on the network: one named end, connected to at most one server. Most
/// ends are the network's own ([`Network::make_end`]); a peer in a process of its own holds
/// ends over another [`Transport`] ([`ClientEnd::with_transport`]), and cannot tell.
#[derive(Clone)]
pub struct ClientEnd {
    via: Via,
    name: Arc<str>,
}

/// How an end reaches the network.
#[derive(Clone)]
enum Via {
    /// The simulated network itself, in this process (the path every in-process call takes,
    /// inline and without boxing).
    Net(Network),
    /// Any other transport (a socket to the grader's process).
    Other(Arc<dyn Transport>),
}

impl std::fmt::Debug for ClientEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientEnd")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// What the handler produced, once the caller decided to deliver it.
type HandlerOutcome = Result<Bytes, HandlerError>;

impl ClientEnd {
    pub(crate) fn new(net: Network, name: &str) -> Self {
        Self {
            via: Via::Net(net),
            name: Arc::from(name),
        }
    }

    /// An end called `name` whose calls go through `transport` (see [`Transport`]).
    pub fn with_transport(transport: Arc<dyn Transport>, name: &str) -> Self {
        Self {
            via: Via::Other(transport),
            name: Arc::from(name),
        }
    }

    /// The end's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sends `args` to "Service.Method" on the connected server and waits for the reply.
    /// Many calls may be outstanding on one end at once.
    ///
    /// A handler error is treated like a reply of zero bytes: it passes the same dead-server
    /// check, reply drop and reordering delay, and then becomes [`RpcError::Handler`].
    pub async fn call(&self, method: &str, args: Bytes) -> Result<Bytes, RpcError> {
        match &self.via {
            Via::Net(net) => {
                Call {
                    net,
                    end: &self.name,
                }
                .run(method, args)
                .await
            }
            Via::Other(transport) => transport.call(&self.name, method, args).await,
        }
    }

    /// `call` with bincode-encoded args and reply.
    pub async fn call_typed<A, R>(&self, method: &str, args: &A) -> Result<R, RpcError>
    where
        A: serde::Serialize,
        R: serde::de::DeserializeOwned,
    {
        let args = codec::encode(args).map_err(|source| RpcError::Encode {
            method: method.to_owned(),
            source,
        })?;
        let reply = self.call(method, args).await?;
        codec::decode(&reply).map_err(|source| RpcError::Decode {
            method: method.to_owned(),
            source,
        })
    }
}

/// One call on the simulated network, from the end called `end`: labrpc's `processReq`.
struct Call<'a> {
    net: &'a Network,
    end: &'a str,
}

impl Call<'_> {
    /// Runs the call to its end (see [`ClientEnd::call`]).
    async fn run(&self, method: &str, args: Bytes) -> Result<Bytes, RpcError> {
        let Some(submission) = self.net.submit(self.end, args.len()) else {
            return Err(RpcError::NoReply);
        };
        let watch = Watch {
            submission: &submission,
            end: self.end,
            method,
        };
        watch.note(CallStage::Sent, Some(&args), None);
        let Some(target) = &submission.target else {
            // Case B: no reply, after a delay that stands for the caller's timeout.
            let delay = self.net.dead_end_delay();
            watch.note(CallStage::Unreachable, None, Some(delay));
            tokio::time::sleep(delay).await;
            return Err(RpcError::NoReply);
        };
        // The request's latency (zero unless set; not labrpc's).
        if !submission.latency.is_zero() {
            tokio::time::sleep(submission.latency).await;
        }
        // Case A, steps 1-2: short delay and request drop.
        if !submission.reliable {
            tokio::time::sleep(self.net.short_delay()).await;
            if self.net.chance(100, 1000) {
                watch.note(CallStage::RequestDropped, None, None);
                return Err(RpcError::NoReply);
            }
        }
        // Steps 3-5: run the handler, giving up on a dead server.
        let handler = match target.server.dispatch(method, args) {
            Ok(handler) => handler,
            Err(e) => {
                watch.note(CallStage::NoMethod, None, None);
                return Err(e);
            }
        };
        watch.note(CallStage::Dispatched, None, None);
        let outcome = match self.run_handler(target, handler, &watch).await {
            Ok(outcome) => outcome,
            Err(stage) => {
                watch.note(stage, None, None);
                return Err(RpcError::NoReply);
            }
        };
        let empty = Bytes::new();
        let reply = outcome.as_ref().unwrap_or(&empty);
        watch.note(CallStage::Handled, Some(reply), None);
        // Step 6: reply drop.
        if !submission.reliable && self.net.chance(100, 1000) {
            watch.note(CallStage::ReplyDropped, None, None);
            return Err(RpcError::NoReply);
        }
        // Step 7: long reordering.
        if submission.long_reordering && self.net.chance(600, 900) {
            let delay = self.net.reorder_delay();
            watch.note(CallStage::Reordered, None, Some(delay));
            tokio::time::sleep(delay).await;
        }
        // Step 8: delivery.
        watch.note(CallStage::Delivered, None, None);
        match outcome {
            Ok(reply) => {
                self.net.add_bytes(reply.len());
                Ok(reply)
            }
            Err(source) => Err(RpcError::Handler {
                method: method.to_owned(),
                source,
            }),
        }
    }

    /// Polls the handler once inline; if it is not done, spawns it and waits. The stage that
    /// stopped it when the reply must not be delivered: the server died (see
    /// [`Call::wait_for_handler`]) or the handler panicked.
    async fn run_handler(
        &self,
        target: &Target,
        handler: crate::HandlerFuture,
        watch: &Watch<'_>,
    ) -> Result<HandlerOutcome, CallStage> {
        let mut handler = AssertUnwindSafe(handler).catch_unwind();
        let first = std::future::poll_fn(|cx| Poll::Ready(handler.poll_unpin(cx))).await;
        let finished = match first {
            Poll::Ready(finished) => {
                // The same final check as after a spawned handler.
                if self.net.is_server_dead(self.end, target) {
                    return Err(CallStage::ServerDead);
                }
                finished
            }
            Poll::Pending => {
                watch.note(CallStage::Detached, None, None);
                let spawned = tokio::spawn(handler);
                let joined = self.wait_for_handler(target, spawned).await;
                joined.ok_or(CallStage::ServerDead)?
            }
        };
        finished.map_err(|_panic| CallStage::Panicked)
    }

    /// Waits for the handler, re-checking every 100 ms whether the server is dead, and again
    /// after it finished. `None` when the server died before the reply could leave. A handler
    /// left running is detached and its result thrown away.
    async fn wait_for_handler<T>(
        &self,
        target: &Target,
        mut handle: JoinHandle<Result<T, Box<dyn std::any::Any + Send>>>,
    ) -> Option<Result<T, Box<dyn std::any::Any + Send>>> {
        let finished = loop {
            tokio::select! {
                biased;
                joined = &mut handle => break joined.ok(),
                () = tokio::time::sleep(DEAD_POLL) => {
                    if self.net.is_server_dead(self.end, target) {
                        break None;
                    }
                }
            }
        };
        if self.net.is_server_dead(self.end, target) {
            return None;
        }
        finished
    }
}

/// The observer's view of one call.
struct Watch<'a> {
    submission: &'a Submission,
    end: &'a str,
    method: &'a str,
}

impl Watch<'_> {
    fn note(&self, stage: CallStage, payload: Option<&Bytes>, delay: Option<std::time::Duration>) {
        if let Some(observer) = &self.submission.observer {
            observer(&CallEvent {
                call: self.submission.call,
                end: self.end,
                server: self.submission.target.as_ref().map(|t| t.name.as_str()),
                method: self.method,
                stage,
                payload,
                delay,
            });
        }
    }
}
