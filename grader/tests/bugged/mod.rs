//! The reference Raft with one classic student bug injected (`raft_core::Bug`, one line
//! each): the grader's tests measure what catches each (`bugs.rs`, `explore.rs`).

use std::marker::PhantomData;
use std::sync::Arc;

use bytes::Bytes;
use grader::suites::{TestCase, suite};
use lab_api::{LabRaft, PeerArgs, RaftView, Started};
use labrpc_sim::Service;
use raft_core::Bug;
use raft_rpc::{PeerOptions, RaftPeer};

/// Which bug a [`Bugged`] peer carries.
pub trait Injected: Send + Sync + 'static {
    const BUG: Bug;
}

/// The reference peer with one bug.
pub struct Bugged<B> {
    peer: Arc<RaftPeer>,
    _bug: PhantomData<B>,
}

impl<B: Injected> LabRaft for Bugged<B> {
    fn make(args: PeerArgs) -> Arc<Self> {
        let options = PeerOptions {
            bug: Some(B::BUG),
            ..PeerOptions::default()
        };
        Arc::new(Bugged {
            peer: RaftPeer::make_with(args, options),
            _bug: PhantomData,
        })
    }
    fn service(self: Arc<Self>) -> Service {
        Arc::clone(&self.peer).service()
    }
    fn start(self: &Arc<Self>, command: Bytes) -> Option<Started> {
        self.peer.start(command)
    }
    fn get_state(&self) -> (u64, bool) {
        self.peer.get_state()
    }
    fn snapshot(self: &Arc<Self>, index: u64, snapshot: Bytes) {
        self.peer.snapshot(index, snapshot);
    }
    fn kill(&self) {
        self.peer.kill();
    }
    fn inspect(&self) -> Option<RaftView> {
        self.peer.inspect()
    }
}

macro_rules! bugs {
    ($($name:ident),*) => {
        $(
            /// The bug of the same name.
            pub struct $name;
            impl Injected for $name {
                const BUG: Bug = Bug::$name;
            }
        )*
        /// Hands `measure` every bug and the suite of the peer that carries it.
        #[allow(dead_code)] // each test file uses what it needs
        pub fn each_bug(mut measure: impl FnMut(Bug, fn() -> Vec<TestCase>)) {
            $( measure(Bug::$name, suite::<Bugged<$name>>); )*
        }
    };
}

bugs!(
    VoteNotPersisted,
    IgnoreTermInReplies,
    CommitOldTermByCounting,
    InstallStaleSnapshot,
    BackupOneEntry,
    CountVotesWrong,
    TruncateOnEveryAppend
);
