//! The frames between the grader's process and a peer process, and how they travel: each is
//! a little-endian `u32` length, then the frame's bincode encoding (the framing is not part of
//! the network's byte counts: the grader's network counts the RPC bytes inside).
//!
//! The grader speaks first ([`ToPeer::Init`]); the peer answers [`FromPeer::Hello`]; from then
//! on frames go both ways in any order, each side writing its frames in one ordered stream, so
//! a save ([`FromPeer::Save`]) reaches the grader before any reply the peer sent after it.

use std::io::{self, Read, Write};

use bytes::Bytes;
use kv_api::{KvError, Version};
use lab_api::{ApplyMsg, LogMark, RaftChange, RaftView, Started};
use serde::{Deserialize, Serialize};

/// The largest frame either side accepts (a snapshot of Lab 4 fits many times over).
pub const MAX_FRAME: usize = 1 << 30;

/// What the grader's process sends to a peer process.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ToPeer {
    /// The first frame: what the peer is made from (Go's `Make` arguments).
    Init {
        /// This peer's index.
        me: usize,
        /// The names of its client ends, one per peer, in order (`ends[me]` is its own).
        ends: Vec<String>,
        /// The seed of its random choices.
        seed: u64,
        /// The persister's raft state, as the grader holds it.
        raft_state: Bytes,
        /// The persister's snapshot.
        snapshot: Bytes,
        /// What the process is to serve.
        role: Role,
    },
    /// The grader's network dispatched a request to this peer's service: run the handler of
    /// "Service.Method" `method` and answer [`FromPeer::Reply`] with the same `id`.
    Handle {
        /// The request's number (the grader's).
        id: u64,
        /// "Service.Method".
        method: String,
        /// The encoded arguments.
        args: Bytes,
    },
    /// The outcome of the peer's [`FromPeer::Call`] with the same `id`.
    CallReply {
        /// The call's number (the peer's).
        id: u64,
        /// The reply, or why there is none.
        result: Result<Bytes, WireRpcError>,
    },
    /// A call of the lab API on the peer; answered by [`FromPeer::Answer`] with the same `id`.
    Control {
        /// The request's number (the grader's).
        id: u64,
        /// Which call.
        request: Control,
    },
    /// The grader took the last [`FromPeer::Apply`]: the peer may hand over the next one.
    ApplyTaken,
    /// A call of Lab 4's layer (the rsm tests' Submit, a clerk's Get or Put); answered by
    /// [`FromPeer::LayerReply`] with the same `id`.
    Layer {
        /// The request's number (the grader's).
        id: u64,
        /// Which call.
        call: LayerCall,
    },
}

/// What a process serves (Lab 4's servers and clerks run where the course runs them: the
/// servers each in a process of its own, the clerks outside the grader's process).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Role {
    /// A Raft peer alone, driven through the lab API (the Raft lab).
    Raft,
    /// The rsm tests' server (Go's `rsm1d`): the layer's rsm on the Raft peer, replicating
    /// the tests' counter ([`crate::counter::Counter`]); the grader submits to it directly.
    Rsm {
        /// Go's `maxraftstate` (`None` for -1).
        max_raft_state: Option<usize>,
    },
    /// A key/value server (Go's `kvraft1d`): the layer's server on the Raft peer, its
    /// service beside the Raft peer's.
    Kv {
        /// Go's `maxraftstate` (`None` for -1).
        max_raft_state: Option<usize>,
    },
    /// A test's clerks (the layer's clerk, one per client of the test): no Raft peer; each
    /// clerk's RPCs go to the grader's network as that client's.
    Clerks,
}

/// A call of Lab 4's layer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum LayerCall {
    /// The rsm's `submit` of a counter request.
    Submit(crate::counter::Req),
    /// Make clerk `clerk` (a number of the grader's) for the servers named `servers`.
    MakeClerk {
        /// The clerk's number.
        clerk: u64,
        /// The servers' names, in index order.
        servers: Vec<String>,
    },
    /// Clerk `clerk`'s `get(key)`.
    Get {
        /// The clerk's number.
        clerk: u64,
        /// The key.
        key: String,
    },
    /// Clerk `clerk`'s `put(key, value, version)`.
    Put {
        /// The clerk's number.
        clerk: u64,
        /// The key.
        key: String,
        /// The value.
        value: String,
        /// The version.
        version: Version,
    },
    /// Clerk `clerk` is no longer used.
    DropClerk {
        /// The clerk's number.
        clerk: u64,
    },
}

/// The answer to a [`LayerCall`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum LayerReply {
    /// What `submit` returned.
    Submitted(Result<crate::counter::Rep, KvError>),
    /// What `get` returned, and the clerk's `leader()` after it.
    Got(Result<(String, Version), KvError>, usize),
    /// What `put` returned, and the clerk's `leader()` after it.
    Put(Result<(), KvError>, usize),
    /// Done (`MakeClerk`, `DropClerk`).
    Done,
    /// This process does not serve that call (another role, no such clerk).
    Refused,
}

/// A call of the lab API (`LabRaft`) on the peer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Control {
    /// `start(command)`.
    Start(Bytes),
    /// `get_state()`.
    GetState,
    /// `snapshot(index, snapshot)`.
    Snapshot {
        /// Up to and including this index.
        index: u64,
        /// The service's snapshot.
        data: Bytes,
    },
    /// `inspect()`.
    Inspect,
    /// `inspect_since(mark)`.
    InspectSince(Option<LogMark>),
}

/// The answer to a [`Control`] request.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Answer {
    /// What `start` returned.
    Started(Option<Started>),
    /// What `get_state` returned: the term and whether the peer leads.
    State(u64, bool),
    /// `snapshot` returned.
    Done,
    /// What `inspect` returned.
    View(Option<RaftView>),
    /// What `inspect_since` returned.
    Change(Option<RaftChange>),
}

/// Why an RPC got no reply, as the grader's network said ([`labrpc_sim::RpcError`] without
/// the parts that do not cross a process boundary).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum WireRpcError {
    /// No reply (lost, dead server, disabled end, ...).
    NoReply,
    /// No such method at the server.
    UnknownMethod {
        /// What was asked for.
        method: String,
        /// What the server offers.
        valid: Vec<String>,
    },
    /// The handler failed.
    Handler {
        /// The method.
        method: String,
        /// The handler's error, as text.
        message: String,
    },
}

/// Why the peer's handler gave no reply bytes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum HandlerFailure {
    /// It returned an error (its text).
    Error(String),
    /// It panicked.
    Panicked,
    /// The peer's service has no such method.
    NoMethod,
}

/// What a peer process sends to the grader's process.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum FromPeer {
    /// The answer to [`ToPeer::Init`]: the peer is made.
    Hello {
        /// Its service's name.
        service: String,
        /// Its service's methods (without the service's name).
        methods: Vec<String>,
        /// What its `missing()` says (and its layer's, for Lab 4's roles).
        missing: Vec<String>,
        /// The services beside the Raft peer's (a key/value server's), each with its
        /// methods.
        services: Vec<(String, Vec<String>)>,
    },
    /// An RPC from the peer's end number `peer` (to peer `peer`).
    Call {
        /// The call's number (the peer's), for [`ToPeer::CallReply`].
        id: u64,
        /// Which of the peer's ends.
        peer: usize,
        /// "Service.Method".
        method: String,
        /// The encoded arguments.
        args: Bytes,
    },
    /// The outcome of the handler of [`ToPeer::Handle`] `id`.
    Reply {
        /// The request's number.
        id: u64,
        /// The reply bytes, or why there are none.
        result: Result<Bytes, HandlerFailure>,
    },
    /// The answer to [`ToPeer::Control`] `id`.
    Answer {
        /// The request's number.
        id: u64,
        /// The answer.
        answer: Answer,
    },
    /// The peer saved its persister (the whole of it: raft state and snapshot).
    Save {
        /// The raft state.
        raft_state: Bytes,
        /// The snapshot.
        snapshot: Bytes,
    },
    /// The peer sent this on its apply channel.
    Apply(ApplyMsg),
    /// The answer to [`ToPeer::Layer`] `id`.
    LayerReply {
        /// The request's number.
        id: u64,
        /// The answer.
        reply: LayerReply,
    },
    /// An RPC of clerk `clerk` to server `server`, answered by [`ToPeer::CallReply`].
    ClerkCall {
        /// The call's number (this process's), for [`ToPeer::CallReply`].
        id: u64,
        /// The clerk's number.
        clerk: u64,
        /// The server's name.
        server: String,
        /// "Service.Method".
        method: String,
        /// The encoded arguments.
        args: Bytes,
    },
    /// The rsm tests' counter took a new value (Go's `GetCounter` reads it).
    Counter(i64),
    /// Something in the peer panicked.
    Panic {
        /// `file:line:column`.
        location: String,
        /// The panic's message.
        message: String,
        /// The backtrace.
        backtrace: String,
    },
}

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// The socket failed.
    #[error("socket: {0}")]
    Io(#[from] io::Error),
    /// A frame did not decode (or encode).
    #[error("frame: {0}")]
    Codec(#[from] labrpc_sim::CodecError),
    /// A frame's length is beyond [`MAX_FRAME`].
    #[error("a frame of {0} bytes is too long")]
    TooLong(usize),
    /// The other side closed the connection.
    #[error("the other side closed the connection")]
    Closed,
}

/// Writes one frame.
pub fn write_frame<T: Serialize>(w: &mut impl Write, frame: &T) -> Result<(), WireError> {
    let body = labrpc_sim::codec::encode(frame)?;
    let len = u32::try_from(body.len()).map_err(|_| WireError::TooLong(body.len()))?;
    let mut buf = Vec::with_capacity(4 + body.len());
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(&body);
    w.write_all(&buf)?;
    Ok(())
}

/// Reads frames from a stream that may have a read timeout: a timeout keeps what was read
/// of a frame, and the caller decides whether to wait on.
pub struct FrameReader<R> {
    inner: R,
    buf: Vec<u8>,
}

/// One attempt at reading a frame.
pub enum Read1<T> {
    /// A whole frame.
    Frame(T),
    /// The read timed out (what was read so far is kept).
    TimedOut,
}

impl<R: Read> FrameReader<R> {
    /// A reader over `inner`.
    pub fn new(inner: R) -> Self {
        FrameReader {
            inner,
            buf: Vec::new(),
        }
    }

    /// The next frame, or [`Read1::TimedOut`] when the stream's read timeout ran out first.
    pub fn read<T: serde::de::DeserializeOwned>(&mut self) -> Result<Read1<T>, WireError> {
        loop {
            if self.buf.len() >= 4 {
                let mut len = [0u8; 4];
                len.copy_from_slice(&self.buf[..4]);
                let len = usize::try_from(u32::from_le_bytes(len)).unwrap_or(usize::MAX);
                if len > MAX_FRAME {
                    return Err(WireError::TooLong(len));
                }
                if self.buf.len() >= 4 + len {
                    let frame = labrpc_sim::codec::decode(&self.buf[4..4 + len])?;
                    self.buf.drain(..4 + len);
                    return Ok(Read1::Frame(frame));
                }
            }
            let mut chunk = [0u8; 64 * 1024];
            match self.inner.read(&mut chunk) {
                Ok(0) => return Err(WireError::Closed),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(Read1::TimedOut);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The next frame, waiting as long as it takes (timeouts are retried).
    pub fn read_blocking<T: serde::de::DeserializeOwned>(&mut self) -> Result<T, WireError> {
        loop {
            if let Read1::Frame(frame) = self.read()? {
                return Ok(frame);
            }
        }
    }
}

/// Starts the thread that writes every frame queued on the returned sender to `out`, in order:
/// what is queued together is written together and flushed once. It ends when the senders are
/// dropped or a write fails (the other side closed). Both sides of the socket use it.
pub fn spawn_writer<T, W>(out: W) -> std::sync::mpsc::Sender<T>
where
    T: Serialize + Send + 'static,
    W: Write + Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::channel::<T>();
    std::thread::spawn(move || {
        let mut out = std::io::BufWriter::new(out);
        while let Ok(frame) = rx.recv() {
            if write_frame(&mut out, &frame).is_err() {
                return;
            }
            while let Ok(frame) = rx.try_recv() {
                if write_frame(&mut out, &frame).is_err() {
                    return;
                }
            }
            if out.flush().is_err() {
                return;
            }
        }
    });
    tx
}
