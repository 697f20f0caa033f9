//! Lab 4 in process mode, as the 2026 course runs it: every server (its Raft peer and the
//! layer under test on it) is a process of its own, and the clerks are too, outside the
//! grader's process (see `grader::harness::process`). [`ProcessKv`] is the layer the grader's
//! tests run then: a stand-in whose rsm, server and clerk forward to those processes, so the
//! suites, the harness, the history and its check run unchanged in the grader's process.
//!
//! - an rsm test server ([`ProcessRsm`]) is a process serving the layer's rsm on its Raft
//!   peer with the tests' counter ([`crate::rsm_test::Counter`], which runs there, as Go's
//!   `rsm1d` holds it); Submit travels over the socket (never through the simulated network,
//!   not counted, failing at once on a killed server, as Go's socket call), and every new
//!   value of the counter is told to the grader, where `checkCounter` reads it;
//! - a key/value server ([`ProcessKvServer`]) is a process serving the layer's server: its
//!   `KVServer` service is registered on the grader's network, each request forwarded;
//! - the clerks ([`ProcessClerk`]) of a test live in one process of their own (as Go's live in
//!   one, the tester's), started at the test's first clerk; each clerk's RPCs come back over
//!   the socket and leave through the grader's client handle of that clerk.
//!
//! The Raft peer under each server is reached as [`ProcessRaft`], so the harness inspects it
//! and checks Raft's safety as in process. `ProcessKv` works only with `ProcessRaft` as the
//! Raft and, for the rsm, the tests' counter as the machine: the catalogue of process mode
//! (`suites::catalogue::<ProcessRaft, ProcessKv>`) is its one use.

use std::any::Any;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use grader::harness::ProcessRaft;
use grader::harness::process::{ClerkHost, Hooks, ProcessError};
use kv_api::{Clnt, KV_SERVICE, KvError, KvLab, ServerArgs, StateMachine, Version};
use lab_api::LabRaft;
use lab_peer::wire::{LayerCall, LayerReply, Role};
use labrpc_sim::Service;

use crate::rsm_test::{Counter, Req};

/// The layer under test, in processes of the submission's (see the module doc).
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessKv;

impl KvLab for ProcessKv {
    type Rsm<R: LabRaft, SM: StateMachine> = ProcessRsm<R, SM>;
    type Server<R: LabRaft> = ProcessKvServer<R>;
    type Clerk = ProcessClerk;
    // What the layer says is missing comes with each server's Raft peer (its `missing`).
}

/// Starts server `args.me` in `role`; a failure is the server's panic (the test fails with
/// it, as for a Raft peer that cannot start).
fn spawn(args: ServerArgs, role: Role, hooks: Hooks) -> Arc<ProcessRaft> {
    let me = args.me;
    ProcessRaft::spawn_server(me, args.servers, args.persister, args.seed, role, hooks)
        .unwrap_or_else(|e: ProcessError| panic!("server {me}: cannot start its process: {e}"))
}

/// `node` as the Raft type `R` the harness names (which is `ProcessRaft` in process mode).
fn as_raft<R: LabRaft>(node: &Arc<ProcessRaft>) -> Arc<R> {
    let any: Arc<dyn Any + Send + Sync> = Arc::clone(node) as _;
    any.downcast::<R>()
        .unwrap_or_else(|_| panic!("ProcessKv runs on ProcessRaft peers only"))
}

/// The rsm tests' server in a process of its own.
pub struct ProcessRsm<R, SM> {
    node: Arc<ProcessRaft>,
    _types: PhantomData<fn() -> (R, SM)>,
}

impl<R: LabRaft, SM: StateMachine> kv_api::Rsm<R, SM> for ProcessRsm<R, SM> {
    /// `sm` must be the tests' counter: the process runs its own, and every value it takes
    /// there is stored in this one's count, which the harness reads.
    fn make(args: ServerArgs, sm: SM) -> Arc<Self> {
        let boxed: Box<dyn Any> = Box::new(sm);
        let Ok(counter) = boxed.downcast::<Counter>() else {
            panic!("ProcessKv's rsm replicates the rsm tests' counter only");
        };
        let count = counter.shared();
        let hooks = Hooks {
            on_counter: Some(Arc::new(move |n| count.store(n, Ordering::SeqCst))),
            clerks: None,
        };
        let max_raft_state = args.max_raft_state;
        let node = spawn(args, Role::Rsm { max_raft_state }, hooks);
        Arc::new(ProcessRsm {
            node,
            _types: PhantomData,
        })
    }

    async fn submit(self: &Arc<Self>, req: SM::Req) -> Result<SM::Rep, KvError> {
        let boxed: Box<dyn Any> = Box::new(req);
        let Ok(req) = boxed.downcast::<Req>() else {
            return Err(KvError::WrongLeader);
        };
        match self.node.layer(LayerCall::Submit(*req)).await {
            Some(LayerReply::Submitted(Ok(rep))) => {
                let boxed: Box<dyn Any> = Box::new(rep);
                boxed
                    .downcast::<SM::Rep>()
                    .map(|rep| *rep)
                    .map_err(|_| KvError::WrongLeader)
            }
            Some(LayerReply::Submitted(Err(e))) => Err(e),
            // The process is gone, or answered nonsense: Go's proxy returns nothing then.
            _ => Err(KvError::WrongLeader),
        }
    }

    fn raft(&self) -> Arc<R> {
        as_raft(&self.node)
    }

    /// SIGKILL (a crash).
    fn kill(&self) {
        self.node.kill();
    }
}

/// A key/value server in a process of its own.
pub struct ProcessKvServer<R> {
    node: Arc<ProcessRaft>,
    _raft: PhantomData<fn() -> R>,
}

impl<R: LabRaft> kv_api::KvServer<R> for ProcessKvServer<R> {
    fn start(args: ServerArgs) -> Arc<Self> {
        let max_raft_state = args.max_raft_state;
        let node = spawn(args, Role::Kv { max_raft_state }, Hooks::default());
        Arc::new(ProcessKvServer {
            node,
            _raft: PhantomData,
        })
    }

    /// The process's key/value service, each request forwarded to it (an empty `KVServer`
    /// when it offers none: every call then fails as a call of an unknown method).
    fn service(self: Arc<Self>) -> Service {
        self.node
            .layer_services()
            .into_iter()
            .next()
            .unwrap_or_else(|| Service::new(KV_SERVICE))
    }

    fn raft(&self) -> Arc<R> {
        as_raft(&self.node)
    }

    /// SIGKILL (a crash).
    fn kill(&self) {
        self.node.kill();
    }
}

/// A clerk of the layer under test, in the test's clerks' process.
pub struct ProcessClerk {
    host: Arc<ClerkHost>,
    clerk: u64,
    /// What the clerk's `leader()` said after its last call.
    leader: usize,
}

impl ProcessClerk {
    async fn call(&mut self, call: LayerCall) -> Option<LayerReply> {
        self.host.call(call).await
    }
}

/// A clerk whose process is gone never answers (the test's watchdog then fails it, after
/// the failure the process's end already recorded).
async fn never<T>() -> T {
    std::future::pending().await
}

impl kv_api::Clerk for ProcessClerk {
    fn make(clnt: Clnt, servers: Vec<String>) -> Self {
        match ClerkHost::of_this_test() {
            Ok(host) => {
                let clerk = host.make_clerk(clnt, servers);
                ProcessClerk {
                    host,
                    clerk,
                    leader: 0,
                }
            }
            // As a peer that cannot start: the test fails with it.
            Err(e) => panic!("the clerks' process cannot start: {e}"),
        }
    }

    async fn get(&mut self, key: &str) -> Result<(String, Version), KvError> {
        let call = LayerCall::Get {
            clerk: self.clerk,
            key: key.to_owned(),
        };
        match self.call(call).await {
            Some(LayerReply::Got(got, leader)) => {
                self.leader = leader;
                got
            }
            _ => never().await,
        }
    }

    async fn put(&mut self, key: &str, value: &str, version: Version) -> Result<(), KvError> {
        let call = LayerCall::Put {
            clerk: self.clerk,
            key: key.to_owned(),
            value: value.to_owned(),
            version,
        };
        match self.call(call).await {
            Some(LayerReply::Put(put, leader)) => {
                self.leader = leader;
                put
            }
            _ => never().await,
        }
    }

    fn leader(&self) -> usize {
        self.leader
    }
}

impl Drop for ProcessClerk {
    fn drop(&mut self) {
        self.host.drop_clerk(self.clerk);
    }
}
