//! The peer side: connect to the grader's socket, make the peer from [`ToPeer::Init`], and
//! serve it until the grader goes away (or kills this process, which is how a crash happens).
//!
//! Threads: this one reads frames and dispatches them; one thread writes every frame the peer
//! sends, in the order they were queued (saves, RPCs, replies, answers, applies); the peer and
//! its handlers run on a tokio runtime of their own (2 workers, real time); each call of the
//! lab API runs on a blocking thread of that runtime, as a call from the grader's own threads
//! would in process.

use std::collections::BTreeMap;
use std::os::unix::net::UnixStream;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use async_trait::async_trait;
use bytes::Bytes;
use futures::FutureExt;
use futures::future::BoxFuture;
use kv_api::{KvLab, ServerArgs};
use lab_api::{LabRaft, PeerArgs, PeerRng, apply_channel};
use labrpc_sim::{ClientEnd, RpcError, Service, Transport};
use raft_persist::Persister;
use tokio::sync::oneshot;

use crate::counter::Counter;
use crate::wire::{
    Answer, Control, FrameReader, FromPeer, HandlerFailure, LayerCall, LayerReply, Role, ToPeer,
    WireError, WireRpcError,
};

/// Why a peer process stopped serving.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The command line was not `PROGRAM [peer] [--impl NAME] SOCKET`.
    #[error("usage: {program} peer SOCKET (run by the grader in process mode)")]
    Usage {
        /// The program's name.
        program: String,
    },
    /// The grader's socket could not be reached.
    #[error("cannot connect to the grader's socket {path}: {source}")]
    Connect {
        /// The socket's path.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// The tokio runtime could not be built.
    #[error("cannot build a tokio runtime: {0}")]
    Runtime(std::io::Error),
    /// The first frame was not `Init`, or the connection failed.
    #[error("the grader's socket: {0}")]
    Wire(#[from] WireError),
    /// The first frame was something else than `Init`.
    #[error("the grader did not start with Init")]
    NoInit,
    /// The grader asked for a role this binary does not serve.
    #[error("this peer binary serves a Raft peer only, not {0:?} (Lab 4 needs lab_peer::main_lab)")]
    NoLayer(Role),
}

/// Where every frame of this process goes (the writer thread's queue).
type Out = Sender<FromPeer>;

/// The writer's queue, for the panic hook.
static PANIC_OUT: OnceLock<Mutex<Out>> = OnceLock::new();

/// A peer's ends over the socket: each call is a [`FromPeer::Call`] and waits for its
/// [`ToPeer::CallReply`].
struct SocketTransport {
    out: Out,
    ends: BTreeMap<String, usize>,
    next: Arc<AtomicU64>,
    pending: Pending,
}

/// The peer's calls waiting for their replies, by number.
type Pending = Arc<Mutex<BTreeMap<u64, oneshot::Sender<Result<Bytes, WireRpcError>>>>>;

#[async_trait]
impl Transport for SocketTransport {
    async fn call(&self, end: &str, method: &str, args: Bytes) -> Result<Bytes, RpcError> {
        let Some(&peer) = self.ends.get(end) else {
            return Err(RpcError::NoReply);
        };
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(id, tx);
        let frame = FromPeer::Call {
            id,
            peer,
            method: method.to_owned(),
            args,
        };
        await_reply(&self.out, &self.pending, id, rx, frame).await
    }
}

/// A clerk's client handle over the socket: each call is a [`FromPeer::ClerkCall`] to the
/// server the end is named after; the grader's handle of the same client makes it.
struct ClerkTransport {
    out: Out,
    clerk: u64,
    next: Arc<AtomicU64>,
    pending: Pending,
}

#[async_trait]
impl Transport for ClerkTransport {
    async fn call(&self, end: &str, method: &str, args: Bytes) -> Result<Bytes, RpcError> {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(id, tx);
        let frame = FromPeer::ClerkCall {
            id,
            clerk: self.clerk,
            server: end.to_owned(),
            method: method.to_owned(),
            args,
        };
        await_reply(&self.out, &self.pending, id, rx, frame).await
    }
}

/// Sends a call's frame and waits for its [`ToPeer::CallReply`].
async fn await_reply(
    out: &Out,
    pending: &Pending,
    id: u64,
    rx: oneshot::Receiver<Result<Bytes, WireRpcError>>,
    frame: FromPeer,
) -> Result<Bytes, RpcError> {
    {
        if out.send(frame).is_err() {
            lock(pending).remove(&id);
            return Err(RpcError::NoReply);
        }
        // The grader gone: no reply, ever (the process ends soon).
        let Ok(result) = rx.await else {
            return std::future::pending().await;
        };
        result.map_err(|e| match e {
            WireRpcError::NoReply => RpcError::NoReply,
            WireRpcError::UnknownMethod { method, valid } => {
                RpcError::UnknownMethod { method, valid }
            }
            WireRpcError::Handler { method, message } => RpcError::Handler {
                method,
                source: message.into(),
            },
        })
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Serves peer type `R` on the grader's socket `socket` until the grader closes it. The
/// process's whole life as a peer: call it from `main` (or use [`crate::main`]). Serves the
/// Raft lab's role only ([`Role::Raft`]); [`serve_lab`] serves Lab 4's too.
pub fn serve<R: LabRaft>(socket: &Path) -> Result<(), PeerError> {
    serve_as(socket, make_node::<R, NoLayer>)
}

/// Serves Raft `R` and Lab 4's layer `K` on the grader's socket `socket`, in whichever
/// role the grader asks for ([`Role`]): a Raft peer alone, the rsm tests' server, a
/// key/value server, or a test's clerks.
pub fn serve_lab<R: LabRaft, K: KvLab>(socket: &Path) -> Result<(), PeerError> {
    serve_as(socket, make_node::<R, K>)
}

/// No Lab 4 layer: [`serve`] refuses its roles.
struct NoLayer;

/// What the grader's `Init` gives a process: everything a node is made from.
struct Made {
    me: usize,
    ends: Vec<ClientEnd>,
    persister: Persister,
    seed: u64,
    role: Role,
    out: Out,
    next: Arc<AtomicU64>,
    pending: Pending,
}

/// A served node: its services, how the grader's lab-API calls and layer calls are run,
/// how it is stopped.
struct Node {
    /// The Raft peer's service first (none for the clerks), then the layer's.
    services: Vec<Arc<Service>>,
    missing: Vec<String>,
    control: Option<Arc<dyn Fn(Control) -> Answer + Send + Sync>>,
    /// Called in frame order; the answer comes when its future ends.
    layer: Option<Arc<dyn Fn(LayerCall) -> BoxFuture<'static, LayerReply> + Send + Sync>>,
    /// The grader took the last apply (a Raft peer alone hands them over).
    taken: Option<tokio::sync::mpsc::UnboundedSender<()>>,
    kill: Box<dyn FnOnce() + Send>,
}

/// Makes the node of `made.role` (on the runtime), or refuses the role.
type MakeNode = fn(Made) -> Result<Node, PeerError>;

/// The Raft peer's half of a node: its service and lab-API calls.
fn raft_parts<R: LabRaft>(
    rf: &Arc<R>,
) -> (Arc<Service>, Arc<dyn Fn(Control) -> Answer + Send + Sync>) {
    let service = Arc::new(Arc::clone(rf).service());
    let rf = Arc::clone(rf);
    (service, Arc::new(move |request| control(&rf, request)))
}

/// Server arguments from what `Init` gave.
fn server_args(made: &mut Made, max_raft_state: Option<usize>) -> ServerArgs {
    ServerArgs {
        servers: std::mem::take(&mut made.ends),
        me: made.me,
        persister: made.persister.clone(),
        max_raft_state,
        seed: made.seed,
        // A server in a process of its own runs in real time: its draws are not choices.
        rng: PeerRng::seeded(made.seed),
    }
}

fn make_node<R: LabRaft, K: MaybeLayer>(mut made: Made) -> Result<Node, PeerError> {
    match made.role.clone() {
        Role::Raft => {
            let (apply_tx, apply_rx) = apply_channel();
            let rf = R::make(PeerArgs {
                peers: std::mem::take(&mut made.ends),
                me: made.me,
                persister: made.persister.clone(),
                apply_ch: apply_tx,
                seed: made.seed,
                // A peer in a process of its own runs in real time: its draws are not choices.
                rng: PeerRng::seeded(made.seed),
            });
            // The apply channel: one message at a time, the next only once the grader took
            // it.
            let (taken_tx, mut taken_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
            let applies = made.out.clone();
            tokio::spawn(async move {
                while let Some(msg) = apply_rx.recv().await {
                    if applies.send(FromPeer::Apply(msg)).is_err()
                        || taken_rx.recv().await.is_none()
                    {
                        return;
                    }
                }
            });
            let (service, control) = raft_parts(&rf);
            Ok(Node {
                services: vec![service],
                missing: rf.missing().iter().map(|s| (*s).to_owned()).collect(),
                control: Some(control),
                layer: None,
                taken: Some(taken_tx),
                kill: Box::new(move || rf.kill()),
            })
        }
        role => K::node::<R>(made, role),
    }
}

/// A Lab 4 layer a peer binary may serve (or none).
trait MaybeLayer {
    /// The node of a Lab 4 role.
    fn node<R: LabRaft>(made: Made, role: Role) -> Result<Node, PeerError>;
}

impl MaybeLayer for NoLayer {
    fn node<R: LabRaft>(_: Made, role: Role) -> Result<Node, PeerError> {
        Err(PeerError::NoLayer(role))
    }
}

impl<K: KvLab> MaybeLayer for K {
    fn node<R: LabRaft>(mut made: Made, role: Role) -> Result<Node, PeerError> {
        let missing = |rf: Option<Vec<&'static str>>| -> Vec<String> {
            rf.unwrap_or_default()
                .into_iter()
                .chain(K::missing())
                .map(str::to_owned)
                .collect()
        };
        match role {
            Role::Raft => Err(PeerError::NoLayer(Role::Raft)),
            Role::Rsm { max_raft_state } => {
                let args = server_args(&mut made, max_raft_state);
                let counts = made.out.clone();
                let sm = Counter::reporting(
                    made.me,
                    Arc::new(std::sync::atomic::AtomicI64::new(0)),
                    Arc::new(move |n| {
                        let _ = counts.send(FromPeer::Counter(n));
                    }),
                );
                let rsm = <K::Rsm<R, Counter> as kv_api::Rsm<R, Counter>>::make(args, sm);
                let rf = kv_api::Rsm::raft(&*rsm);
                let (service, control) = raft_parts(&rf);
                let submitter = Arc::clone(&rsm);
                Ok(Node {
                    services: vec![service],
                    missing: missing(Some(rf.missing())),
                    control: Some(control),
                    layer: Some(Arc::new(move |call| {
                        let rsm = Arc::clone(&submitter);
                        Box::pin(async move {
                            match call {
                                LayerCall::Submit(req) => {
                                    LayerReply::Submitted(kv_api::Rsm::submit(&rsm, req).await)
                                }
                                _ => LayerReply::Refused,
                            }
                        })
                    })),
                    taken: None,
                    kill: Box::new(move || kv_api::Rsm::kill(&*rsm)),
                })
            }
            Role::Kv { max_raft_state } => {
                let args = server_args(&mut made, max_raft_state);
                let server = <K::Server<R> as kv_api::KvServer<R>>::start(args);
                let rf = kv_api::KvServer::raft(&*server);
                let (service, control) = raft_parts(&rf);
                let kv = Arc::new(kv_api::KvServer::service(Arc::clone(&server)));
                Ok(Node {
                    services: vec![service, kv],
                    missing: missing(Some(rf.missing())),
                    control: Some(control),
                    layer: None,
                    taken: None,
                    kill: Box::new(move || kv_api::KvServer::kill(&*server)),
                })
            }
            Role::Clerks => {
                let clerks: Arc<Mutex<BTreeMap<u64, SharedClerk<K::Clerk>>>> =
                    Arc::new(Mutex::new(BTreeMap::new()));
                let (out, next, pending) = (made.out, made.next, made.pending);
                Ok(Node {
                    services: Vec::new(),
                    missing: missing(None),
                    control: None,
                    layer: Some(Arc::new(move |call| {
                        clerk_call::<K::Clerk>(&clerks, call, (&out, &next, &pending))
                    })),
                    taken: None,
                    kill: Box::new(|| {}),
                })
            }
        }
    }
}

/// A clerk, called by one task at a time.
type SharedClerk<C> = Arc<tokio::sync::Mutex<C>>;

/// One layer call in the clerks' process: `MakeClerk` and `DropClerk` take effect at once
/// (in frame order), `Get` and `Put` when their future runs.
fn clerk_call<C: kv_api::Clerk>(
    clerks: &Arc<Mutex<BTreeMap<u64, SharedClerk<C>>>>,
    call: LayerCall,
    (out, next, pending): (&Out, &Arc<AtomicU64>, &Pending),
) -> BoxFuture<'static, LayerReply> {
    let clerk_of = |clerk: u64| lock(clerks).get(&clerk).cloned();
    match call {
        LayerCall::MakeClerk { clerk, servers } => {
            let transport = Arc::new(ClerkTransport {
                out: out.clone(),
                clerk,
                next: Arc::clone(next),
                pending: Arc::clone(pending),
            });
            let id = usize::try_from(clerk).unwrap_or(usize::MAX);
            let ck = C::make(kv_api::Clnt::over(transport, id), servers);
            lock(clerks).insert(clerk, Arc::new(tokio::sync::Mutex::new(ck)));
            Box::pin(async { LayerReply::Done })
        }
        LayerCall::DropClerk { clerk } => {
            lock(clerks).remove(&clerk);
            Box::pin(async { LayerReply::Done })
        }
        LayerCall::Get { clerk, key } => {
            let Some(ck) = clerk_of(clerk) else {
                return Box::pin(async { LayerReply::Refused });
            };
            Box::pin(async move {
                let mut ck = ck.lock().await;
                let got = ck.get(&key).await;
                LayerReply::Got(got, ck.leader())
            })
        }
        LayerCall::Put {
            clerk,
            key,
            value,
            version,
        } => {
            let Some(ck) = clerk_of(clerk) else {
                return Box::pin(async { LayerReply::Refused });
            };
            Box::pin(async move {
                let mut ck = ck.lock().await;
                let put = ck.put(&key, &value, version).await;
                LayerReply::Put(put, ck.leader())
            })
        }
        LayerCall::Submit(_) => Box::pin(async { LayerReply::Refused }),
    }
}

/// Connects to the grader, makes the node `Init` asks for (with `make`), and serves it
/// until the grader goes away.
fn serve_as(socket: &Path, make: MakeNode) -> Result<(), PeerError> {
    let stream = UnixStream::connect(socket).map_err(|source| PeerError::Connect {
        path: socket.display().to_string(),
        source,
    })?;
    let writer = stream.try_clone().map_err(WireError::Io)?;
    let mut reader = FrameReader::new(stream);
    let Ok(ToPeer::Init {
        me,
        ends,
        seed,
        raft_state,
        snapshot,
        role,
    }) = reader.read_blocking::<ToPeer>()
    else {
        return Err(PeerError::NoInit);
    };
    let out = spawn_writer(writer);
    install_panic_hook(out.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(PeerError::Runtime)?;
    let pending: Pending = Arc::new(Mutex::new(BTreeMap::new()));
    let next = Arc::new(AtomicU64::new(0));
    let transport = Arc::new(SocketTransport {
        out: out.clone(),
        ends: ends.iter().cloned().zip(0..).collect(),
        next: Arc::clone(&next),
        pending: Arc::clone(&pending),
    });
    let persister = Persister::new();
    if !raft_state.is_empty() || !snapshot.is_empty() {
        persister.save(raft_state, snapshot);
    }
    let saves = out.clone();
    let persister = persister.with_save_hook(Arc::new(move |parts: &[Bytes], snapshot: &Bytes| {
        let raft_state = match parts {
            [one] => one.clone(),
            parts => Bytes::from(parts.concat()),
        };
        let _ = saves.send(FromPeer::Save {
            raft_state,
            snapshot: snapshot.clone(),
        });
    }));
    let peers: Vec<ClientEnd> = ends
        .iter()
        .map(|name| ClientEnd::with_transport(transport.clone(), name))
        .collect();
    let made = Made {
        me,
        ends: peers,
        persister,
        seed,
        role,
        out: out.clone(),
        next,
        pending: Arc::clone(&pending),
    };
    let node = runtime.block_on(async { make(made) })?;
    let mut services = node.services.iter();
    let first = services.next();
    let hello = FromPeer::Hello {
        service: first.map(|s| s.name().to_owned()).unwrap_or_default(),
        methods: first.map(|s| s.method_names()).unwrap_or_default(),
        missing: node.missing.clone(),
        services: services
            .map(|s| (s.name().to_owned(), s.method_names()))
            .collect(),
    };
    let _ = out.send(hello);
    loop {
        let frame = match reader.read_blocking::<ToPeer>() {
            Ok(frame) => frame,
            // The grader is gone (or spoke nonsense): this peer's life is over.
            Err(_) => break,
        };
        match frame {
            ToPeer::Init { .. } => {}
            ToPeer::Handle { id, method, args } => {
                let out = out.clone();
                let handler = method.rsplit_once('.').and_then(|(name, m)| {
                    let service = node.services.iter().find(|s| s.name() == name)?;
                    service.handle(m, args)
                });
                runtime.spawn(async move {
                    let result = match handler {
                        None => Err(HandlerFailure::NoMethod),
                        Some(h) => match AssertUnwindSafe(h).catch_unwind().await {
                            Ok(Ok(reply)) => Ok(reply),
                            Ok(Err(e)) => Err(HandlerFailure::Error(e.to_string())),
                            Err(_) => Err(HandlerFailure::Panicked),
                        },
                    };
                    let _ = out.send(FromPeer::Reply { id, result });
                });
            }
            ToPeer::CallReply { id, result } => {
                if let Some(tx) = lock(&pending).remove(&id) {
                    let _ = tx.send(result);
                }
            }
            ToPeer::Control { id, request } => {
                let out = out.clone();
                let Some(control) = node.control.clone() else {
                    continue;
                };
                runtime.spawn_blocking(move || {
                    let answer = control(request);
                    let _ = out.send(FromPeer::Answer { id, answer });
                });
            }
            ToPeer::ApplyTaken => {
                if let Some(taken) = &node.taken {
                    let _ = taken.send(());
                }
            }
            ToPeer::Layer { id, call } => {
                let out = out.clone();
                let reply = match &node.layer {
                    Some(layer) => {
                        let _enter = runtime.enter();
                        layer(call)
                    }
                    None => Box::pin(async { LayerReply::Refused }),
                };
                runtime.spawn(async move {
                    let reply = reply.await;
                    let _ = out.send(FromPeer::LayerReply { id, reply });
                });
            }
        }
    }
    (node.kill)();
    runtime.shutdown_background();
    Ok(())
}

/// Client ends named `ends` (end `k` reaches peer `k`) over `stream`, a connection to a
/// grader's process, with nothing else of a peer: the transport alone, as a peer's ends use
/// it (for benchmarks of the socket hop, and for peers that serve the protocol themselves).
/// Frames other than call replies are ignored.
pub fn transport_over(stream: UnixStream, ends: &[String]) -> std::io::Result<Vec<ClientEnd>> {
    let out = spawn_writer(stream.try_clone()?);
    let pending: Pending = Arc::new(Mutex::new(BTreeMap::new()));
    let transport = Arc::new(SocketTransport {
        out,
        ends: ends.iter().cloned().zip(0..).collect(),
        next: Arc::new(AtomicU64::new(0)),
        pending: Arc::clone(&pending),
    });
    std::thread::spawn(move || {
        let mut reader = FrameReader::new(stream);
        while let Ok(frame) = reader.read_blocking::<ToPeer>() {
            if let ToPeer::CallReply { id, result } = frame {
                if let Some(tx) = lock(&pending).remove(&id) {
                    let _ = tx.send(result);
                }
            }
        }
    });
    Ok(ends
        .iter()
        .map(|name| ClientEnd::with_transport(transport.clone(), name))
        .collect())
}

/// Runs one call of the lab API.
fn control<R: LabRaft>(rf: &Arc<R>, request: Control) -> Answer {
    match request {
        Control::Start(command) => Answer::Started(rf.start(command)),
        Control::GetState => {
            let (term, leader) = rf.get_state();
            Answer::State(term, leader)
        }
        Control::Snapshot { index, data } => {
            rf.snapshot(index, data);
            Answer::Done
        }
        Control::Inspect => Answer::View(rf.inspect()),
        Control::InspectSince(mark) => Answer::Change(rf.inspect_since(mark)),
    }
}

/// The writer thread: writes every queued frame, in order, until the queue or the socket
/// closes.
fn spawn_writer(stream: UnixStream) -> Out {
    crate::wire::spawn_writer(stream)
}

/// A panic anywhere in this process is reported to the grader (which fails the test, as it
/// does for a panic of a peer in its own process), then printed as usual.
fn install_panic_hook(out: Out) {
    if PANIC_OUT.set(Mutex::new(out)).is_err() {
        return;
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = if let Some(s) = info.payload().downcast_ref::<&str>() {
            (*s).to_owned()
        } else if let Some(s) = info.payload().downcast_ref::<String>() {
            s.clone()
        } else {
            "non-string panic payload".to_owned()
        };
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_else(|| "an unknown location".to_owned());
        let backtrace = std::backtrace::Backtrace::force_capture().to_string();
        if let Some(out) = PANIC_OUT.get() {
            let _ = lock(out).send(FromPeer::Panic {
                location,
                message,
                backtrace,
            });
        }
        previous(info);
    }));
}

/// The socket path of a peer's command line: `PROGRAM [peer] [--impl NAME] SOCKET` (the last
/// argument).
pub fn socket_arg(args: &[String]) -> Option<&Path> {
    let rest = args.get(1..)?;
    let last = rest.last()?;
    (!last.starts_with('-')).then(|| Path::new(last.as_str()))
}

/// The whole `main` of a peer binary for peer type `R`: serves on the socket its command line
/// names (`PROGRAM peer SOCKET`, as the grader runs it with `--peer-bin PROGRAM`) and exits.
///
/// ```text
/// // src/bin/peer.rs of a student crate:
/// fn main() {
///     lab_peer::main::<raft_student::Raft>()
/// }
/// ```
pub fn main<R: LabRaft>() -> ! {
    let args: Vec<String> = std::env::args().collect();
    std::process::exit(main_with_args::<R>(&args))
}

/// The whole `main` of a peer binary for Raft `R` and Lab 4's layer `K` (see
/// [`serve_lab`]): a submission's peer binary, which the grader runs for every server of both
/// labs and for the clerks.
pub fn main_lab<R: LabRaft, K: KvLab>() -> ! {
    let args: Vec<String> = std::env::args().collect();
    std::process::exit(main_lab_with_args::<R, K>(&args))
}

/// [`main_lab`] with these arguments; the exit status.
pub fn main_lab_with_args<R: LabRaft, K: KvLab>(args: &[String]) -> i32 {
    run_main(args, serve_lab::<R, K>)
}

/// [`main`] with these arguments; the exit status.
pub fn main_with_args<R: LabRaft>(args: &[String]) -> i32 {
    run_main(args, serve::<R>)
}

fn run_main(args: &[String], serve: fn(&Path) -> Result<(), PeerError>) -> i32 {
    let program = args.first().cloned().unwrap_or_else(|| "peer".to_owned());
    let result = match socket_arg(args) {
        Some(socket) => serve(socket),
        None => Err(PeerError::Usage { program }),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}
