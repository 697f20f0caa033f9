//! A simulated RPC network with the semantics of MIT 6.824's labrpc (spec section 1),
//! deterministic under a seed. It moves bincode-encoded bytes between named client ends and
//! servers, losing, delaying and reordering them exactly as labrpc does, in `tokio::time`.
//!
//! Modules (start with `network`, then `end`):
//! - `network`: [`Network`], the switchboard (ends, servers, flags, the seeded RNG, statistics).
//! - `end`: [`ClientEnd`], the caller's handle, and the request path (labrpc's `processReq`).
//! - `server`: [`Server`] and [`Service`], named handlers over bytes.
//! - [`codec`]: bincode helpers so typed callers do not repeat the encoding.
//! - `error`: [`RpcError`], [`NetError`], [`CodecError`].
//! - `observe`: [`CallEvent`] and [`Observer`], for a harness that records the network.
//! - `transport`: [`Transport`], how an end reaches the network: the [`Network`] itself, or
//!   (for a peer in a process of its own) a socket to the grader's process.
//!
//! - [`choices`]: [`Choices`], a run's random choices as recorded sequences (one per stream),
//!   drawn from seeded RNGs or replayed.
//!
//! Determinism: every random choice is drawn from the network stream of one [`Choices`]
//! (a `ChaCha8Rng` seeded by [`Network::new`], or a recorded sequence with
//! [`Network::with_choices`]) when the choice is made; on a current-thread runtime with a
//! paused clock a run's outcomes depend only on the seed (or the replayed choices).
//!
//! ```
//! use labrpc_sim::{Network, Server, Service};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build()
//! #     .unwrap().block_on(async {
//! let net = Network::new(42);
//! let mut server = Server::new();
//! server.add_service(Service::new("Kv").typed_method("Double", |x: u64| async move { 2 * x }));
//! net.add_server("s1", server);
//!
//! let end = net.make_end("client-to-s1")?;
//! net.connect("client-to-s1", "s1")?;
//! net.enable("client-to-s1", true)?;
//!
//! let doubled: u64 = end.call_typed("Kv.Double", &21u64).await?;
//! assert_eq!(doubled, 42);
//! assert_eq!(net.server_count("s1"), Some(1));
//! assert_eq!(net.total_count(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

pub mod choices;
pub mod codec;
mod end;
mod error;
mod network;
mod observe;
mod server;
mod transport;

pub use bytes::Bytes;
pub use choices::{Choices, Recorded, Stream};
pub use end::ClientEnd;
pub use error::{CodecError, NetError, RpcError};
pub use network::{DEAD_END_DELAY_MS, DEAD_POLL, LONG_DELAY_MS, Network, SHORT_DELAY_MS};
pub use observe::{CallEvent, CallStage, Observer};
pub use server::{HandlerError, HandlerFuture, Server, Service};
pub use transport::Transport;
