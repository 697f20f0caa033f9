//! Process mode: every peer in a process of its own. [`ProcessRaft`] is a [`LabRaft`] that
//! stands in the grader's process for a peer running in a child process (started by
//! [`PeerLauncher::peer_command`], one process per start and restart), so the harness, the
//! suites and the checks run unchanged: the network, the persister, the apply channel's reader,
//! the checks, the record and the verdict stay here.
//!
//! What crosses the socket (frames of the `lab-peer` crate): the peer's RPCs go to this
//! process's network through its real client ends, so counts, bytes, losses and delays are the
//! network's as in process; requests the network dispatches to the peer's server are run by
//! the child's service; every save of the child's persister is applied here, in order, before
//! anything the child sent after it; what the child sends on its apply channel is handed to
//! the harness's applier one message at a time; and the harness's calls (start, get_state,
//! snapshot, inspect) are answered by the child. A crash is SIGKILL: [`LabRaft::kill`] kills
//! the process, then takes in every frame it sent before it died, so the persister holds
//! exactly what the peer saved.
//!
//! Lab 4 from outside starts the same processes in another role ([`ProcessRaft::spawn_server`]
//! with a `lab_peer::wire::Role`): a server with the submission's rsm or key/value server on
//! its Raft peer (its services through [`ProcessRaft::layer_services`], Submit through
//! [`ProcessRaft::layer`]), and a test's clerks ([`ClerkHost`]), whose RPCs leave through the
//! grader's client handles. `kv_grader::process` builds the layer the tests drive on them.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Sender, SyncSender};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use kv_api::Clnt;
use lab_api::{ApplySender, LabRaft, LogMark, PeerArgs, RaftChange, RaftView, Started};
use lab_peer::wire::{
    Answer, Control, FrameReader, FromPeer, HandlerFailure, LayerCall, LayerReply, Read1, Role,
    ToPeer, WireRpcError,
};
use labrpc_sim::{ClientEnd, HandlerError, RpcError, Service};
use raft_persist::Persister;
use tokio::sync::oneshot;

use super::context::{TestContext, lock};
use crate::panics::{self, PanicRecord};

/// How long a peer process may take to connect and make its peer.
pub const PEER_START_TIMEOUT: Duration = Duration::from_secs(20);

/// What renders a peer's RPC messages for the record (see [`LabRaft::describe`]).
pub type Describe = fn(&str, &[u8], bool) -> Option<String>;

/// A wrapper around every peer's command (a sandbox, for example: it may return a new
/// command that runs the given one).
pub type CommandWrapper = Arc<dyn Fn(Command) -> Command + Send + Sync>;

/// How peer processes are started: `PROGRAM ARGS... SOCKET`.
#[derive(Clone)]
pub struct PeerLauncher {
    /// The executable.
    pub program: PathBuf,
    /// Its arguments before the socket's path.
    pub args: Vec<OsString>,
    /// How the peer type renders its messages, when the grader knows it.
    pub describe: Option<Describe>,
    /// Applied to every peer command last (see [`CommandWrapper`]).
    pub wrap: Option<CommandWrapper>,
    /// The user the peer processes run as, when not this process's (a sandbox's own user):
    /// each socket and its directory are given to it, so that it alone can connect.
    pub socket_owner: Option<u32>,
}

impl std::fmt::Debug for PeerLauncher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerLauncher")
            .field("program", &self.program)
            .field("args", &self.args)
            .finish_non_exhaustive()
    }
}

impl PeerLauncher {
    /// Peers run as `PROGRAM peer SOCKET`: a peer binary of `lab_peer::main`, or a grader.
    pub fn binary(program: impl Into<PathBuf>) -> Self {
        PeerLauncher {
            program: program.into(),
            args: vec!["peer".into()],
            describe: None,
            wrap: None,
            socket_owner: None,
        }
    }

    /// Peers run as this very executable's hidden subcommand `peer --impl NAME SOCKET`.
    pub fn this_grader(implementation: &str, describe: Describe) -> std::io::Result<Self> {
        Ok(PeerLauncher {
            program: std::env::current_exe()?,
            args: vec!["peer".into(), "--impl".into(), implementation.into()],
            describe: Some(describe),
            wrap: None,
            socket_owner: None,
        })
    }

    /// The one place a peer's command is made: `PROGRAM ARGS... SOCKET`, standard input
    /// closed, output inherited (the grader's capture), then [`PeerLauncher::wrap`].
    pub fn peer_command(&self, socket: &Path) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args).arg(socket).stdin(Stdio::null());
        match &self.wrap {
            Some(wrap) => wrap(command),
            None => command,
        }
    }
}

/// The launcher of this process's peers ([`set_launcher`]).
static LAUNCHER: RwLock<Option<PeerLauncher>> = RwLock::new(None);

/// Sets how [`ProcessRaft`] starts its peers, for every test of this process from now on
/// (and lets peers start again after [`close_peers`]).
pub fn set_launcher(launcher: Option<PeerLauncher>) {
    *LAUNCHER
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = launcher;
    lock(&PEERS).closed = false;
}

/// A peer process, shared by its [`ProcessRaft`] and the registry of live peers (whichever
/// kills it first takes it, so a process id is never signalled after it was waited for).
type PeerChild = Arc<Mutex<Option<Child>>>;

/// Every peer process this process started and has not waited for yet.
struct Peers {
    children: Vec<PeerChild>,
    /// [`close_peers`] was called: a peer started now is killed at once.
    closed: bool,
    stats: PeerStats,
}

/// What became of the peer processes started since the last [`take_peer_stats`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeerStats {
    /// Processes started.
    pub started: usize,
    /// Processes that ended by themselves (an exit, a crash, a signal of their own), by how
    /// they ended (`exit status: 0`, `signal: 6 (SIGABRT)`, ...), in that order.
    pub exited: BTreeMap<String, usize>,
    /// Processes killed (a crash of the test's, the test's end, [`close_peers`]).
    pub killed: usize,
}

static PEERS: Mutex<Peers> = Mutex::new(Peers {
    children: Vec::new(),
    closed: false,
    stats: PeerStats {
        started: 0,
        exited: BTreeMap::new(),
        killed: 0,
    },
});

/// What became of the peer processes started since the last call (and starts counting
/// anew).
pub fn take_peer_stats() -> PeerStats {
    std::mem::take(&mut lock(&PEERS).stats)
}

/// Registers a peer process just started; `None` (the process killed) once peers are
/// closed.
fn register(child: Child) -> Option<PeerChild> {
    let child = Arc::new(Mutex::new(Some(child)));
    let mut peers = lock(&PEERS);
    peers.stats.started += 1;
    if peers.closed {
        drop(peers);
        end_child(&child);
        return None;
    }
    peers.children.retain(|c| lock(c).is_some());
    peers.children.push(Arc::clone(&child));
    Some(child)
}

/// SIGKILL and wait, unless someone did already (or the process ended by itself: then how
/// it ended is counted).
fn end_child(child: &Mutex<Option<Child>>) {
    let taken = lock(child).take();
    let Some(mut child) = taken else {
        return;
    };
    let ended = match child.try_wait() {
        Ok(Some(status)) => Some(status),
        _ => {
            let _ = child.kill();
            let _ = child.wait();
            None
        }
    };
    let mut peers = lock(&PEERS);
    match ended {
        Some(status) => *peers.stats.exited.entry(status.to_string()).or_default() += 1,
        None => peers.stats.killed += 1,
    }
}

/// Kills every peer process still running (a test abandoned by the watchdog leaves its peers
/// running, a grade past its deadline all of them) and waits for each; peers started from now
/// on are killed at once, until the next [`set_launcher`]. How many were running.
///
/// A peer started in a sandbox of its own ([`PeerLauncher::wrap`], bubblewrap's PID
/// namespace with `--die-with-parent`) takes every process it started with it.
pub fn close_peers() -> usize {
    let children: Vec<PeerChild> = {
        let mut peers = lock(&PEERS);
        peers.closed = true;
        std::mem::take(&mut peers.children)
    };
    let mut killed = 0;
    for child in &children {
        if lock(child).is_some() {
            killed += 1;
        }
        end_child(child);
    }
    killed
}

fn launcher() -> Option<PeerLauncher> {
    LAUNCHER
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

/// Why a peer process could not be started.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// No [`set_launcher`] before the first peer.
    #[error("process mode is not set up (no peer launcher)")]
    NoLauncher,
    /// Setting up or starting failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// What failed.
        source: std::io::Error,
    },
    /// The process ended before it made its peer.
    #[error("the peer process {program} ended before it made its peer ({status})")]
    Exited {
        /// Its program.
        program: String,
        /// How it ended.
        status: std::process::ExitStatus,
    },
    /// Peers were closed ([`close_peers`]): the grade is over.
    #[error("peer processes are closed (the grade is over)")]
    Closed,
    /// The process did not connect and make its peer in time.
    #[error("the peer process {program} did not make its peer within {PEER_START_TIMEOUT:?}")]
    Timeout {
        /// Its program.
        program: String,
    },
}

/// Everything both this process's threads and the peer's stand-in share.
struct Link {
    /// The writer thread's queue; `None` once the connection is over.
    out: Mutex<Option<Sender<ToPeer>>>,
    next: AtomicU64,
    /// Harness calls waiting for their answer; `None` once the connection is over.
    answers: Mutex<Option<BTreeMap<u64, SyncSender<Answer>>>>,
    /// Requests to the peer's service waiting for their reply.
    replies: Mutex<Option<BTreeMap<u64, ReplyWaiter>>>,
    /// Layer calls waiting for their answer.
    layer: Mutex<Option<BTreeMap<u64, oneshot::Sender<LayerReply>>>>,
    /// The peer was killed (its end of the socket may close at any time).
    killed: AtomicBool,
}

impl Link {
    fn send(&self, frame: ToPeer) -> bool {
        lock(&self.out)
            .as_ref()
            .is_some_and(|out| out.send(frame).is_ok())
    }

    fn close(&self) {
        *lock(&self.out) = None;
        *lock(&self.answers) = None;
        *lock(&self.replies) = None;
        *lock(&self.layer) = None;
    }

    /// One call of the lab API on the peer; `None` when the peer is gone.
    fn control(&self, request: Control) -> Option<Answer> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        lock(&self.answers).as_mut()?.insert(id, tx);
        if !self.send(ToPeer::Control { id, request }) {
            return None;
        }
        rx.recv().ok()
    }

    /// One request to the peer's service (run as the network's handler).
    async fn handle(self: Arc<Self>, method: String, args: Bytes) -> Result<Bytes, HandlerError> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        let registered = lock(&self.replies)
            .as_mut()
            .map(|r| r.insert(id, tx))
            .is_some();
        if !registered || !self.send(ToPeer::Handle { id, method, args }) {
            // A dead process never replies (the network gives up on a dead server).
            return std::future::pending().await;
        }
        match rx.await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(HandlerFailure::Error(message))) => Err(message.into()),
            Ok(Err(HandlerFailure::NoMethod)) => {
                Err("the peer's service has no such method".into())
            }
            // The peer reported the panic itself; here it is the lost reply it is in process.
            Ok(Err(HandlerFailure::Panicked)) => {
                std::panic::resume_unwind(Box::new("the peer's handler panicked"))
            }
            Err(_) => std::future::pending().await,
        }
    }
}

/// Where the reply of a request to the peer's service goes.
type ReplyWaiter = oneshot::Sender<Result<Bytes, HandlerFailure>>;

/// What the peer told at its start.
struct Hello {
    service: String,
    methods: Vec<String>,
    missing: Vec<&'static str>,
    /// The services beside the Raft peer's.
    services: Vec<(String, Vec<String>)>,
}

/// What a process of Lab 4 tells the grader besides its Raft peer's part.
#[derive(Clone, Default)]
pub struct Hooks {
    /// Told each new value of the rsm tests' counter (a [`Role::Rsm`] process).
    pub on_counter: Option<Arc<dyn Fn(i64) + Send + Sync>>,
    /// The client handle of each clerk of a [`Role::Clerks`] process, by number: its calls
    /// go to the network through it.
    pub clerks: Option<Arc<Mutex<BTreeMap<u64, Clnt>>>>,
}

/// A peer running in a process of its own, as the harness sees it (see the module's doc).
pub struct ProcessRaft {
    link: Arc<Link>,
    hello: Hello,
    child: PeerChild,
    reader: Mutex<Option<JoinHandle<()>>>,
}

/// `missing()` strings, each kept once for the process's life.
fn intern(s: String) -> &'static str {
    static KEPT: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let mut kept = lock(&KEPT);
    if let Some(k) = kept.get(s.as_str()) {
        return k;
    }
    let leaked: &'static str = Box::leak(s.into_boxed_str());
    kept.insert(leaked);
    leaked
}

#[allow(clippy::disallowed_methods)] // how long a process takes to start: wall time by nature
fn wall_now() -> std::time::Instant {
    std::time::Instant::now()
}

/// Everything the reader thread needs.
struct ReaderCtx {
    me: usize,
    /// Whose process it is, for a report: "peer 3's", "the clerks'".
    whose: String,
    hooks: Hooks,
    link: Arc<Link>,
    persister: Persister,
    ends: Vec<ClientEnd>,
    runtime: tokio::runtime::Handle,
    applies: tokio::sync::mpsc::UnboundedSender<lab_api::ApplyMsg>,
    hello: Option<SyncSender<Hello>>,
    test: Option<TestContext>,
}

impl ReaderCtx {
    fn run(mut self, mut reader: FrameReader<UnixStream>) {
        loop {
            match reader.read::<FromPeer>() {
                Ok(Read1::Frame(frame)) => self.take(frame),
                Ok(Read1::TimedOut) if self.link.killed.load(Ordering::SeqCst) => break,
                Ok(Read1::TimedOut) => {}
                Err(e) => {
                    if !self.link.killed.load(Ordering::SeqCst) {
                        self.report(
                            "its process",
                            format!("{} process ended by itself ({e})", self.whose),
                        );
                    }
                    break;
                }
            }
        }
        self.link.close();
    }

    /// The peer a report is of (none for the clerks).
    fn peer(&self) -> Option<usize> {
        self.hooks.clerks.is_none().then_some(self.me)
    }

    fn report(&self, location: &str, message: String) {
        if let Some(t) = &self.test {
            let record = PanicRecord {
                peer: self.peer(),
                location: location.to_owned(),
                message,
                backtrace: String::new(),
            };
            panics::record_elsewhere(t, record);
        }
    }

    fn take(&mut self, frame: FromPeer) {
        match frame {
            FromPeer::Save {
                raft_state,
                snapshot,
            } => self.persister.save(raft_state, snapshot),
            FromPeer::Apply(msg) => {
                let _ = self.applies.send(msg);
            }
            FromPeer::Call {
                id,
                peer,
                method,
                args,
            } => {
                let end = self.ends.get(peer).cloned();
                let link = Arc::clone(&self.link);
                self.runtime.spawn(async move {
                    let result = match end {
                        Some(end) => end.call(&method, args).await,
                        None => Err(RpcError::NoReply),
                    };
                    link.send(ToPeer::CallReply {
                        id,
                        result: result.map_err(wire_error),
                    });
                });
            }
            FromPeer::Reply { id, result } => {
                let waiter = lock(&self.link.replies)
                    .as_mut()
                    .and_then(|r| r.remove(&id));
                if let Some(tx) = waiter {
                    let _ = tx.send(result);
                }
            }
            FromPeer::Answer { id, answer } => {
                let waiter = lock(&self.link.answers)
                    .as_mut()
                    .and_then(|a| a.remove(&id));
                if let Some(tx) = waiter {
                    let _ = tx.send(answer);
                }
            }
            FromPeer::Hello {
                service,
                methods,
                missing,
                services,
            } => {
                if let Some(tx) = self.hello.take() {
                    let missing = missing.into_iter().map(intern).collect();
                    let _ = tx.send(Hello {
                        service,
                        methods,
                        missing,
                        services,
                    });
                }
            }
            FromPeer::LayerReply { id, reply } => {
                let waiter = lock(&self.link.layer).as_mut().and_then(|w| w.remove(&id));
                if let Some(tx) = waiter {
                    let _ = tx.send(reply);
                }
            }
            FromPeer::Counter(n) => {
                if let Some(tell) = &self.hooks.on_counter {
                    tell(n);
                }
            }
            FromPeer::ClerkCall {
                id,
                clerk,
                server,
                method,
                args,
            } => {
                let clnt = self
                    .hooks
                    .clerks
                    .as_ref()
                    .and_then(|c| lock(c).get(&clerk).cloned());
                let link = Arc::clone(&self.link);
                self.runtime.spawn(async move {
                    let result = match clnt {
                        Some(clnt) => clnt.call_bytes(&server, &method, args).await,
                        None => Err(RpcError::NoReply),
                    };
                    link.send(ToPeer::CallReply {
                        id,
                        result: result.map_err(wire_error),
                    });
                });
            }
            FromPeer::Panic {
                location,
                message,
                backtrace,
            } => {
                if let Some(t) = &self.test {
                    let record = PanicRecord {
                        peer: self.peer(),
                        location,
                        message,
                        backtrace,
                    };
                    panics::record_elsewhere(t, record);
                }
            }
        }
    }
}

/// An RPC error as it crosses the socket.
fn wire_error(e: RpcError) -> WireRpcError {
    match e {
        RpcError::UnknownMethod { method, valid } => WireRpcError::UnknownMethod { method, valid },
        RpcError::Handler { method, source } => WireRpcError::Handler {
            method,
            message: source.to_string(),
        },
        _ => WireRpcError::NoReply,
    }
}

/// The writer thread: writes every queued frame, in order.
fn spawn_writer(stream: UnixStream) -> Sender<ToPeer> {
    lab_peer::wire::spawn_writer(stream)
}

impl ProcessRaft {
    /// Starts peer `args.me`'s process and makes the peer there.
    pub fn spawn(args: PeerArgs) -> Result<Arc<Self>, ProcessError> {
        let node = Node {
            me: args.me,
            ends: args.peers,
            persister: args.persister,
            seed: args.seed,
            role: Role::Raft,
        };
        Self::spawn_node(node, Some(args.apply_ch), Hooks::default())
    }

    /// Starts a process of Lab 4 in role `role` (a server `me` of the group on `ends`, from
    /// `persister`; or a test's clerks, see [`ClerkHost`]) and makes its node there. Its
    /// Raft peer (none for the clerks) is this stand-in's; its layer is reached with
    /// [`ProcessRaft::layer_services`] and [`ProcessRaft::layer`].
    pub fn spawn_server(
        me: usize,
        ends: Vec<ClientEnd>,
        persister: Persister,
        seed: u64,
        role: Role,
        hooks: Hooks,
    ) -> Result<Arc<Self>, ProcessError> {
        let node = Node {
            me,
            ends,
            persister,
            seed,
            role,
        };
        Self::spawn_node(node, None, hooks)
    }

    fn spawn_node(
        node: Node,
        apply_ch: Option<ApplySender>,
        hooks: Hooks,
    ) -> Result<Arc<Self>, ProcessError> {
        let launcher = launcher().ok_or(ProcessError::NoLauncher)?;
        let io = |what| move |source| ProcessError::Io { what, source };
        let program = launcher.program.display().to_string();
        let dir = tempfile::Builder::new()
            .prefix("raft-lab-peer")
            .tempdir()
            .map_err(io("cannot make the socket's directory"))?;
        let path = dir.path().join("socket");
        let listener = UnixListener::bind(&path).map_err(io("cannot bind the socket"))?;
        if let Some(uid) = launcher.socket_owner {
            let give = |p: &Path| std::os::unix::fs::chown(p, Some(uid), Some(uid));
            give(dir.path())
                .and_then(|()| give(&path))
                .map_err(io("cannot give the socket to the peer's user"))?;
        }
        listener
            .set_nonblocking(true)
            .map_err(io("cannot set up the socket"))?;
        let child = launcher
            .peer_command(&path)
            .spawn()
            .map_err(io("cannot start the peer process"))?;
        let child = register(child).ok_or(ProcessError::Closed)?;
        let started = wall_now();
        let stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    let exited = lock(&child).as_mut().map(Child::try_wait);
                    match exited {
                        Some(Ok(Some(status))) => {
                            end_child(&child);
                            return Err(ProcessError::Exited { program, status });
                        }
                        None => return Err(ProcessError::Closed),
                        _ => {}
                    }
                    if started.elapsed() > PEER_START_TIMEOUT {
                        end_child(&child);
                        return Err(ProcessError::Timeout { program });
                    }
                    std::thread::sleep(Duration::from_micros(200));
                }
                Err(e) => return Err(io("cannot accept the peer's connection")(e)),
            }
        };
        drop(listener);
        drop(dir);
        let setup = io("cannot set up the peer's connection");
        stream.set_nonblocking(false).map_err(setup)?;
        stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .map_err(setup)?;
        let (raft_state, snapshot) = node.persister.read_state_and_snapshot();
        let whose = match node.role {
            Role::Clerks => "the clerks'".to_string(),
            _ => format!("peer {}'s", node.me),
        };
        let init = ToPeer::Init {
            me: node.me,
            ends: node.ends.iter().map(|e| e.name().to_owned()).collect(),
            seed: node.seed,
            raft_state,
            snapshot,
            role: node.role,
        };
        let writer = stream.try_clone().map_err(setup)?;
        let out = spawn_writer(writer);
        let _ = out.send(init);
        let link = Arc::new(Link {
            out: Mutex::new(Some(out)),
            next: AtomicU64::new(0),
            answers: Mutex::new(Some(BTreeMap::new())),
            replies: Mutex::new(Some(BTreeMap::new())),
            layer: Mutex::new(Some(BTreeMap::new())),
            killed: AtomicBool::new(false),
        });
        let (applies, apply_rx) = tokio::sync::mpsc::unbounded_channel();
        let (hello_tx, hello_rx) = std::sync::mpsc::sync_channel(1);
        let ctx = ReaderCtx {
            me: node.me,
            whose,
            hooks,
            link: Arc::clone(&link),
            persister: node.persister,
            ends: node.ends,
            runtime: tokio::runtime::Handle::current(),
            applies,
            hello: Some(hello_tx),
            test: panics::current_test_and_peer().map(|(t, _)| t),
        };
        let reader = std::thread::spawn(move || ctx.run(FrameReader::new(stream)));
        if let Some(apply_ch) = apply_ch {
            tokio::spawn(forward_applies(apply_rx, apply_ch, Arc::clone(&link)));
        }
        let Ok(hello) = hello_rx.recv_timeout(PEER_START_TIMEOUT) else {
            link.killed.store(true, Ordering::SeqCst);
            end_child(&child);
            return Err(ProcessError::Timeout { program });
        };
        Ok(Arc::new(ProcessRaft {
            link,
            hello,
            child,
            reader: Mutex::new(Some(reader)),
        }))
    }
}

/// What a process is started as.
struct Node {
    me: usize,
    ends: Vec<ClientEnd>,
    persister: Persister,
    seed: u64,
    role: Role,
}

impl ProcessRaft {
    /// The services of the process's layer (a key/value server's), each method forwarded
    /// to the process as the Raft peer's are.
    pub fn layer_services(self: &Arc<Self>) -> Vec<Service> {
        self.hello
            .services
            .iter()
            .map(|(name, methods)| forwarding(&self.link, name, methods))
            .collect()
    }

    /// A call of the process's layer; `None` when the process is gone (killed, or ended).
    pub async fn layer(&self, call: LayerCall) -> Option<LayerReply> {
        let id = self.link.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&self.link.layer).as_mut()?.insert(id, tx);
        if !self.link.send(ToPeer::Layer { id, call }) {
            return None;
        }
        rx.await.ok()
    }

    /// A call of the process's layer whose answer nothing waits for (it takes effect before
    /// any call sent after it).
    pub fn layer_now(&self, call: LayerCall) {
        let id = self.link.next.fetch_add(1, Ordering::Relaxed);
        self.link.send(ToPeer::Layer { id, call });
    }
}

/// A service named `name` whose `methods` are forwarded over `link`.
fn forwarding(link: &Arc<Link>, name: &str, methods: &[String]) -> Service {
    let mut service = Service::new(name);
    for method in methods {
        let full = format!("{name}.{method}");
        let link = Arc::clone(link);
        service = service.method(method, move |args| {
            Arc::clone(&link).handle(full.clone(), args)
        });
    }
    service
}

/// The clerks of a test, in a process of their own (the submission's clerk is its code:
/// it runs in its sandbox, never in the grader's process), started at the test's first
/// clerk and killed at its end. Each clerk's RPCs reach the network through the grader's
/// client handle of that clerk, so which servers it may reach, losses and counts are the
/// network's as for a clerk in this process.
pub struct ClerkHost {
    node: Arc<ProcessRaft>,
    clnts: Arc<Mutex<BTreeMap<u64, Clnt>>>,
    next: AtomicU64,
}

/// Every running test's clerks' process.
static CLERK_HOSTS: Mutex<Vec<(TestContext, Arc<ClerkHost>)>> = Mutex::new(Vec::new());

/// Ends a test's clerks' process at the test's end.
struct EndClerkHost(TestContext);

impl super::Cleanup for EndClerkHost {
    fn cleanup(&self) {
        let mut hosts = lock(&CLERK_HOSTS);
        let (ended, kept): (Vec<_>, Vec<_>) =
            hosts.drain(..).partition(|(t, _)| t.same_test(&self.0));
        *hosts = kept;
        drop(hosts);
        for (_, host) in ended {
            host.node.kill();
        }
    }
}

impl ClerkHost {
    /// The clerks' process of the test this task runs (started now if it has none).
    pub fn of_this_test() -> Result<Arc<ClerkHost>, ProcessError> {
        // One start at a time: clerks made at once (GenericTest's clients) share one process.
        static STARTING: Mutex<()> = Mutex::new(());
        let _one = lock(&STARTING);
        let test = panics::current_test_and_peer().map(|(t, _)| t);
        if let Some(t) = &test {
            let hosts = lock(&CLERK_HOSTS);
            if let Some((_, host)) = hosts.iter().find(|(h, _)| h.same_test(t)) {
                return Ok(Arc::clone(host));
            }
        }
        let clnts = Arc::new(Mutex::new(BTreeMap::new()));
        let hooks = Hooks {
            on_counter: None,
            clerks: Some(Arc::clone(&clnts)),
        };
        let node =
            ProcessRaft::spawn_server(0, Vec::new(), Persister::new(), 0, Role::Clerks, hooks)?;
        let host = Arc::new(ClerkHost {
            node,
            clnts,
            next: AtomicU64::new(0),
        });
        if let Some(t) = test {
            lock(&CLERK_HOSTS).push((t.clone(), Arc::clone(&host)));
            t.defer_cleanup(Arc::new(EndClerkHost(t.clone())));
        }
        Ok(host)
    }

    /// Makes a clerk there for the servers named `servers`, its calls made with `clnt`; its
    /// number.
    pub fn make_clerk(&self, clnt: Clnt, servers: Vec<String>) -> u64 {
        let clerk = self.next.fetch_add(1, Ordering::Relaxed);
        lock(&self.clnts).insert(clerk, clnt);
        self.node.layer_now(LayerCall::MakeClerk { clerk, servers });
        clerk
    }

    /// Drops clerk `clerk` there.
    pub fn drop_clerk(&self, clerk: u64) {
        lock(&self.clnts).remove(&clerk);
        self.node.layer_now(LayerCall::DropClerk { clerk });
    }

    /// A call of a clerk there; `None` when the process is gone.
    pub async fn call(&self, call: LayerCall) -> Option<LayerReply> {
        self.node.layer(call).await
    }
}

/// Hands what the peer applies to the harness, one message at a time: the peer sends the
/// next only once the harness took this one (the channel is a rendezvous, as in process).
async fn forward_applies(
    mut rx: tokio::sync::mpsc::UnboundedReceiver<lab_api::ApplyMsg>,
    apply_ch: ApplySender,
    link: Arc<Link>,
) {
    while let Some(msg) = rx.recv().await {
        if apply_ch.send(msg).await.is_err() {
            return;
        }
        link.send(ToPeer::ApplyTaken);
    }
}

impl LabRaft for ProcessRaft {
    fn make(args: PeerArgs) -> Arc<Self> {
        let me = args.me;
        match ProcessRaft::spawn(args) {
            Ok(peer) => peer,
            // In `as_peer`: the test fails with this as peer me's panic.
            Err(e) => panic!("peer {me}: cannot start its process: {e}"),
        }
    }

    fn service(self: Arc<Self>) -> Service {
        forwarding(&self.link, &self.hello.service, &self.hello.methods)
    }

    fn start(self: &Arc<Self>, command: Bytes) -> Option<Started> {
        match self.link.control(Control::Start(command)) {
            Some(Answer::Started(started)) => started,
            _ => None,
        }
    }

    fn get_state(&self) -> (u64, bool) {
        match self.link.control(Control::GetState) {
            Some(Answer::State(term, leader)) => (term, leader),
            _ => (0, false),
        }
    }

    fn snapshot(self: &Arc<Self>, index: u64, snapshot: Bytes) {
        let _ = self.link.control(Control::Snapshot {
            index,
            data: snapshot,
        });
    }

    /// SIGKILL, then every frame the process sent before it died is taken in.
    fn kill(&self) {
        self.link.killed.store(true, Ordering::SeqCst);
        end_child(&self.child);
        if let Some(reader) = lock(&self.reader).take() {
            let _ = reader.join();
        }
    }

    fn missing(&self) -> Vec<&'static str> {
        self.hello.missing.clone()
    }

    fn inspect(&self) -> Option<RaftView> {
        match self.link.control(Control::Inspect) {
            Some(Answer::View(view)) => view,
            _ => None,
        }
    }

    fn inspect_since(&self, mark: Option<LogMark>) -> Option<RaftChange> {
        match self.link.control(Control::InspectSince(mark)) {
            Some(Answer::Change(change)) => change,
            _ => None,
        }
    }

    fn describe(method: &str, bytes: &[u8], reply: bool) -> Option<String> {
        launcher()?.describe?(method, bytes, reply)
    }
}

impl Drop for ProcessRaft {
    fn drop(&mut self) {
        self.link.killed.store(true, Ordering::SeqCst);
        end_child(&self.child);
    }
}
