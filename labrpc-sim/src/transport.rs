//! How a peer reaches the network: the [`Transport`] under every [`ClientEnd`](crate::ClientEnd).
//!
//! Two implementations: the [`Network`] itself, for peers that run in the grader's process
//! (every end [`Network::make_end`] makes goes this way, inline, without boxing), and a socket
//! to the grader's process for a peer that runs in a process of its own (in the `lab-peer`
//! crate). Either way the network in the grader's process decides what happens to a call
//! (loss, delays, reordering, counting), so a peer cannot tell which transport it has.

use async_trait::async_trait;

use crate::{Bytes, ClientEnd, Network, RpcError};

/// Carries a call from the end called `end` to the network and brings back its outcome,
/// exactly as [`ClientEnd::call`] describes it.
#[async_trait]
pub trait Transport: Send + Sync + 'static {
    /// Sends `args` to "Service.Method" `method` from the end called `end`; the reply, or the
    /// error the network gave.
    async fn call(&self, end: &str, method: &str, args: Bytes) -> Result<Bytes, RpcError>;
}

/// The in-process transport: the call goes straight into this network.
#[async_trait]
impl Transport for Network {
    async fn call(&self, end: &str, method: &str, args: Bytes) -> Result<Bytes, RpcError> {
        ClientEnd::new(self.clone(), end).call(method, args).await
    }
}
