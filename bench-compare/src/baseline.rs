//! The baseline: openraft (its current stable release) on the same closed-loop workload,
//! written against its public API: an in-memory log store (`BTreeMap` of entries), an empty
//! state machine that only records what it applied (snapshots are empty too), and an
//! in-process network whose calls go straight to the target node's `Raft` handle (nothing is
//! serialized). Proposers call `client_write` on the leader; a batch is `client_write_ff` k
//! times, then waiting for all k responses.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::io::Cursor;
use std::ops::RangeBounds;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use openraft::error::{InstallSnapshotError, RPCError, RaftError, RemoteError};
use openraft::network::RPCOption;
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::storage::{LogFlushed, RaftLogStorage, RaftStateMachine};
use openraft::{
    Entry, EntryPayload, LogId, LogState, RaftLogReader, RaftNetwork, RaftNetworkFactory,
    RaftSnapshotBuilder, ServerState, Snapshot, SnapshotMeta, SnapshotPolicy, StorageError,
    StoredMembership, Vote,
};

use crate::closed_loop::{self, Load, Sample, Target};

openraft::declare_raft_types!(
    /// Commands are bytes, responses nothing; the rest is openraft's defaults (u64 node ids,
    /// `BasicNode`, `Entry`, snapshots as `Cursor<Vec<u8>>`, tokio).
    pub TypeConfig: D = Bytes, R = ()
);

type NodeId = u64;
type Raft = openraft::Raft<TypeConfig>;
type Node = openraft::BasicNode;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The log and the vote, in memory.
#[derive(Default)]
struct LogData {
    vote: Option<Vote<NodeId>>,
    committed: Option<LogId<NodeId>>,
    last_purged: Option<LogId<NodeId>>,
    entries: BTreeMap<u64, Entry<TypeConfig>>,
}

/// A node's log store; clones share the log (a clone is also its log reader).
#[derive(Clone, Default)]
pub struct LogStore {
    data: Arc<Mutex<LogData>>,
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + Send>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<TypeConfig>>, StorageError<NodeId>> {
        let data = lock(&self.data);
        Ok(data.entries.range(range).map(|(_, e)| e.clone()).collect())
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError<NodeId>> {
        let data = lock(&self.data);
        let last = data.entries.values().next_back().map(|e| e.log_id);
        Ok(LogState {
            last_purged_log_id: data.last_purged,
            last_log_id: last.or(data.last_purged),
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> Result<(), StorageError<NodeId>> {
        lock(&self.data).vote = Some(*vote);
        Ok(())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<NodeId>>, StorageError<NodeId>> {
        Ok(lock(&self.data).vote)
    }

    async fn save_committed(
        &mut self,
        committed: Option<LogId<NodeId>>,
    ) -> Result<(), StorageError<NodeId>> {
        lock(&self.data).committed = committed;
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<NodeId>>, StorageError<NodeId>> {
        Ok(lock(&self.data).committed)
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError<NodeId>>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        {
            let mut data = lock(&self.data);
            for entry in entries {
                data.entries.insert(entry.log_id.index, entry);
            }
        }
        // In memory: durable as soon as it is stored.
        callback.log_io_completed(Ok(()));
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError<NodeId>> {
        lock(&self.data).entries.split_off(&log_id.index);
        Ok(())
    }

    async fn purge(&mut self, log_id: LogId<NodeId>) -> Result<(), StorageError<NodeId>> {
        let mut data = lock(&self.data);
        let kept = data.entries.split_off(&(log_id.index + 1));
        data.entries = kept;
        data.last_purged = Some(log_id);
        Ok(())
    }
}

/// What the empty state machine remembers.
#[derive(Default)]
struct MachineData {
    last_applied: Option<LogId<NodeId>>,
    membership: StoredMembership<NodeId, Node>,
    snapshot: Option<(SnapshotMeta<NodeId, Node>, Vec<u8>)>,
    snapshots_built: u64,
}

/// A state machine that applies nothing but its position (and membership changes).
#[derive(Clone, Default)]
pub struct StateMachine {
    data: Arc<Mutex<MachineData>>,
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachine {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError<NodeId>> {
        let mut data = lock(&self.data);
        data.snapshots_built += 1;
        let meta = SnapshotMeta {
            last_log_id: data.last_applied,
            last_membership: data.membership.clone(),
            snapshot_id: format!("snapshot-{}", data.snapshots_built),
        };
        data.snapshot = Some((meta.clone(), Vec::new()));
        Ok(Snapshot {
            meta,
            snapshot: Box::new(Cursor::new(Vec::new())),
        })
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = StateMachine;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogId<NodeId>>, StoredMembership<NodeId, Node>), StorageError<NodeId>> {
        let data = lock(&self.data);
        Ok((data.last_applied, data.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<()>, StorageError<NodeId>>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + Send,
        I::IntoIter: Send,
    {
        let mut data = lock(&self.data);
        let mut replies = Vec::new();
        for entry in entries {
            data.last_applied = Some(entry.log_id);
            if let EntryPayload::Membership(membership) = entry.payload {
                data.membership = StoredMembership::new(Some(entry.log_id), membership);
            }
            replies.push(());
        }
        Ok(replies)
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(
        &mut self,
    ) -> Result<Box<Cursor<Vec<u8>>>, StorageError<NodeId>> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<NodeId, Node>,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError<NodeId>> {
        let mut data = lock(&self.data);
        data.last_applied = meta.last_log_id;
        data.membership = meta.last_membership.clone();
        data.snapshot = Some((meta.clone(), snapshot.into_inner()));
        Ok(())
    }

    async fn get_current_snapshot(
        &mut self,
    ) -> Result<Option<Snapshot<TypeConfig>>, StorageError<NodeId>> {
        let data = lock(&self.data);
        Ok(data.snapshot.as_ref().map(|(meta, bytes)| Snapshot {
            meta: meta.clone(),
            snapshot: Box::new(Cursor::new(bytes.clone())),
        }))
    }
}

/// Every node's `Raft` handle, set once all are made.
type Nodes = Arc<OnceLock<Vec<Raft>>>;

/// Connections to other nodes of this process.
#[derive(Clone)]
pub struct Router {
    nodes: Nodes,
}

/// A connection to node `target`: calls go straight to its `Raft` handle.
pub struct Connection {
    target: NodeId,
    raft: Raft,
}

impl RaftNetworkFactory<TypeConfig> for Router {
    type Network = Connection;

    async fn new_client(&mut self, target: NodeId, _node: &Node) -> Connection {
        let nodes = self
            .nodes
            .get()
            .expect("nodes are registered before they start");
        Connection {
            target,
            raft: nodes[target as usize].clone(),
        }
    }
}

type RpcResult<T, E = openraft::error::Infallible> =
    Result<T, RPCError<NodeId, Node, RaftError<NodeId, E>>>;

impl RaftNetwork<TypeConfig> for Connection {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        _option: RPCOption,
    ) -> RpcResult<AppendEntriesResponse<NodeId>> {
        let target = self.target;
        self.raft
            .append_entries(rpc)
            .await
            .map_err(|e| RPCError::RemoteError(RemoteError::new(target, e)))
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        _option: RPCOption,
    ) -> RpcResult<InstallSnapshotResponse<NodeId>, InstallSnapshotError> {
        let target = self.target;
        self.raft
            .install_snapshot(rpc)
            .await
            .map_err(|e| RPCError::RemoteError(RemoteError::new(target, e)))
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        _option: RPCOption,
    ) -> RpcResult<VoteResponse<NodeId>> {
        let target = self.target;
        self.raft
            .vote(rpc)
            .await
            .map_err(|e| RPCError::RemoteError(RemoteError::new(target, e)))
    }
}

/// The leader of a running openraft cluster.
pub struct Leader {
    raft: Raft,
}

impl Target for Leader {
    async fn submit(&self, batch: usize, payload: Bytes) {
        if batch == 1 {
            self.raft
                .client_write(payload)
                .await
                .expect("the leader stays leader");
            return;
        }
        let mut responses = Vec::with_capacity(batch);
        for _ in 0..batch {
            let rx = self.raft.client_write_ff(payload.clone()).await;
            responses.push(rx.expect("the node is running"));
        }
        for rx in responses {
            rx.await
                .expect("the leader answers")
                .expect("the leader stays leader");
        }
    }
}

/// Builds an openraft cluster of `members` nodes on a fresh runtime (node 0 initializes it
/// and leads), runs `load` on the leader and shuts it down. Each node builds a snapshot and
/// purges its log every `snapshot_every` entries, as our service snapshots.
pub fn measure(members: usize, workers: usize, snapshot_every: u64, load: Load) -> Sample {
    let runtime = closed_loop::runtime(workers);
    let config = openraft::Config {
        cluster_name: "bench".to_owned(),
        snapshot_policy: SnapshotPolicy::LogsSinceLast(snapshot_every),
        max_in_snapshot_log_to_keep: 0,
        ..openraft::Config::default()
    };
    let config = Arc::new(config.validate().expect("valid openraft config"));
    let nodes: Nodes = Arc::default();
    let rafts = runtime.block_on(async {
        let mut rafts = Vec::with_capacity(members);
        for id in 0..members as u64 {
            let router = Router {
                nodes: Arc::clone(&nodes),
            };
            let raft = Raft::new(
                id,
                Arc::clone(&config),
                router,
                LogStore::default(),
                StateMachine::default(),
            )
            .await
            .expect("openraft node");
            rafts.push(raft);
        }
        rafts
    });
    assert!(nodes.set(rafts.clone()).is_ok(), "nodes set once");
    let leader = runtime.block_on(async {
        let ids: BTreeSet<NodeId> = (0..members as u64).collect();
        rafts[0].initialize(ids).await.expect("initialize");
        for _ in 0..500 {
            if rafts[0].metrics().borrow().state == ServerState::Leader {
                return rafts[0].clone();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("openraft elected no leader within 5 s");
    });
    let term = leader.metrics().borrow().current_term;
    let target = Arc::new(Leader { raft: leader });
    let sample = closed_loop::run(&runtime, &target, load);
    let metrics = target.raft.metrics().borrow().clone();
    assert!(
        metrics.state == ServerState::Leader && metrics.current_term == term,
        "openraft's leadership changed during the run; figures void"
    );
    runtime.block_on(async {
        for raft in &rafts {
            let _ = raft.shutdown().await;
        }
    });
    drop((target, rafts, nodes));
    runtime.shutdown_timeout(Duration::from_secs(1));
    sample
}
