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
use lab_api::{LabRaft, PeerArgs, apply_channel};
use labrpc_sim::{ClientEnd, RpcError, Transport};
use raft_persist::Persister;
use tokio::sync::oneshot;

use crate::wire::{
    Answer, Control, FrameReader, FromPeer, HandlerFailure, ToPeer, WireError, WireRpcError,
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
    next: AtomicU64,
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
        if self.out.send(frame).is_err() {
            lock(&self.pending).remove(&id);
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
/// process's whole life as a peer: call it from `main` (or use [`crate::main`]).
pub fn serve<R: LabRaft>(socket: &Path) -> Result<(), PeerError> {
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
    let transport = Arc::new(SocketTransport {
        out: out.clone(),
        ends: ends.iter().cloned().zip(0..).collect(),
        next: AtomicU64::new(0),
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
    let (apply_tx, apply_rx) = apply_channel();
    let (taken_tx, mut taken_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let (rf, service) = runtime.block_on(async {
        let rf = R::make(PeerArgs {
            peers,
            me,
            persister,
            apply_ch: apply_tx,
            seed,
        });
        (Arc::clone(&rf), Arc::clone(&rf).service())
    });
    let hello = FromPeer::Hello {
        service: service.name().to_owned(),
        methods: service.method_names(),
        missing: rf.missing().iter().map(|s| (*s).to_owned()).collect(),
    };
    let _ = out.send(hello);
    // The apply channel: one message at a time, the next only once the grader took it.
    let applies = out.clone();
    runtime.spawn(async move {
        while let Some(msg) = apply_rx.recv().await {
            if applies.send(FromPeer::Apply(msg)).is_err() || taken_rx.recv().await.is_none() {
                return;
            }
        }
    });
    let service = Arc::new(service);
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
                let handler = method
                    .rsplit_once('.')
                    .filter(|(s, _)| *s == service.name())
                    .and_then(|(_, name)| service.handle(name, args));
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
                let (out, rf) = (out.clone(), Arc::clone(&rf));
                runtime.spawn_blocking(move || {
                    let answer = control(&rf, request);
                    let _ = out.send(FromPeer::Answer { id, answer });
                });
            }
            ToPeer::ApplyTaken => {
                let _ = taken_tx.send(());
            }
        }
    }
    rf.kill();
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
        next: AtomicU64::new(0),
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

/// [`main`] with these arguments; the exit status.
pub fn main_with_args<R: LabRaft>(args: &[String]) -> i32 {
    let program = args.first().cloned().unwrap_or_else(|| "peer".to_owned());
    let result = match socket_arg(args) {
        Some(socket) => serve::<R>(socket),
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
