//! A hostile Lab 4 layer, for `grader/tests/lab4_submissions.rs`: its servers answer every
//! request at once from a store of their own, without the Raft log (fake OKs), its rsm
//! executes a submit at once, and each server, at its start, tries to write a full-score
//! record where a grader might read one and prints fake `Passed` lines. Its Raft peers run
//! (the reference's, under the reference rsm with nothing to replicate), so the harness sees
//! a Raft; its clerk is the reference's. Served as a submission by
//! `grader/examples/hostile_kv.rs`, and run in process by the test, which compares the two
//! verdicts: the same, whatever it writes or prints.

use std::sync::{Arc, Mutex, PoisonError};

use kv_api::{GetArgs, KV_SERVICE, KvError, KvLab, PutArgs, ServerArgs, StateMachine};
use lab_api::LabRaft;
use labrpc_sim::Service;

/// The forged record it writes.
pub const FORGED: &str =
    r#"{"schema":"raft-lab-grade/1","status":"graded","score":100.0,"max_score":100.0}"#;

/// Where it writes it.
pub const FORGED_PATH: &str = "/tmp/raft-lab-hostile-kv-record.json";

/// The hostile layer.
pub struct FakeKv;

impl KvLab for FakeKv {
    type Rsm<R: LabRaft, SM: StateMachine> = FakeRsm<R, SM>;
    type Server<R: LabRaft> = FakeServer<R>;
    type Clerk = kv_ref::Clerk;
}

/// A machine with nothing to do, for the reference rsm that runs the Raft peer.
pub struct Nothing;

impl StateMachine for Nothing {
    type Req = ();
    type Rep = ();
    fn do_op(&mut self, (): ()) {}
    fn snapshot(&self) -> Vec<u8> {
        Vec::new()
    }
    fn restore(&mut self, _: &[u8]) {}
}

/// The forgeries, once per server start.
fn forge() {
    let _ = std::fs::write(FORGED_PATH, FORGED);
    println!("  ... Passed --  time  1.0s #peers 3 #RPCs    10 #Ops   10");
    println!("score 100/100");
}

/// An rsm that executes every submit at once, on this server only.
pub struct FakeRsm<R: LabRaft, SM: StateMachine> {
    under: Arc<kv_ref::Rsm<R, Nothing>>,
    sm: Mutex<SM>,
}

impl<R: LabRaft, SM: StateMachine> kv_api::Rsm<R, SM> for FakeRsm<R, SM> {
    fn make(args: ServerArgs, sm: SM) -> Arc<Self> {
        forge();
        Arc::new(FakeRsm {
            under: <kv_ref::Rsm<R, Nothing> as kv_api::Rsm<R, Nothing>>::make(args, Nothing),
            sm: Mutex::new(sm),
        })
    }

    async fn submit(self: &Arc<Self>, req: SM::Req) -> Result<SM::Rep, KvError> {
        Ok(self
            .sm
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .do_op(req))
    }

    fn raft(&self) -> Arc<R> {
        kv_api::Rsm::raft(&*self.under)
    }

    fn kill(&self) {
        kv_api::Rsm::kill(&*self.under);
    }
}

/// A key/value server that answers from its own store, without the log.
pub struct FakeServer<R: LabRaft> {
    rsm: Arc<FakeRsm<R, kv_ref::KvStore>>,
}

impl<R: LabRaft> kv_api::KvServer<R> for FakeServer<R> {
    fn start(args: ServerArgs) -> Arc<Self> {
        let rsm = <FakeRsm<R, kv_ref::KvStore> as kv_api::Rsm<R, kv_ref::KvStore>>::make(
            args,
            kv_ref::KvStore::default(),
        );
        Arc::new(FakeServer { rsm })
    }

    fn service(self: Arc<Self>) -> Service {
        let get = Arc::clone(&self);
        Service::new(KV_SERVICE)
            .typed_method("Get", move |args: GetArgs| {
                let server = Arc::clone(&get);
                async move {
                    match kv_api::Rsm::submit(&server.rsm, kv_ref::KvReq::Get(args)).await {
                        Ok(kv_ref::KvRep::Get(reply)) => reply,
                        _ => kv_api::GetReply {
                            result: Err(KvError::WrongLeader),
                        },
                    }
                }
            })
            .typed_method("Put", move |args: PutArgs| {
                let server = Arc::clone(&self);
                async move {
                    match kv_api::Rsm::submit(&server.rsm, kv_ref::KvReq::Put(args)).await {
                        Ok(kv_ref::KvRep::Put(reply)) => reply,
                        _ => kv_api::PutReply {
                            result: Err(KvError::WrongLeader),
                        },
                    }
                }
            })
    }

    fn raft(&self) -> Arc<R> {
        kv_api::Rsm::raft(&*self.rsm)
    }

    fn kill(&self) {
        kv_api::Rsm::kill(&*self.rsm);
    }
}
