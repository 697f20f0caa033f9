//! The reference Raft with one classic student bug injected (`raft_core::Bug`, one line
//! each): the grader's tests measure what catches each (`bugs.rs`, `explore.rs`). A test file
//! that takes it (`mod bugged;`) takes `mod support;` too.

use std::marker::PhantomData;
use std::sync::Arc;

use grader::suites::{TestCase, suite};
use lab_api::{LabRaft, PeerArgs};
use raft_core::Bug;
use raft_rpc::{PeerOptions, RaftPeer};

use crate::support::forward_to;

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
    forward_to!(peer: service, start, get_state, snapshot, kill, inspect);
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
