//! The wiring under Go's `config.go` (spec 3.3-3.5): `n` peer slots on a labrpc-sim network,
//! each with its persister, its client ends and its server, and the verbs that change them
//! (`start1`, `crash1`, `connect`, `disconnect`). It knows nothing of tests, appliers or
//! checks, so the same crash/restart/partition semantics serve the grader's [`Config`], the
//! reference peer's integration tests and the cluster benchmarks.
//!
//! [`Config`]: super::Config

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use lab_api::LabRaft;
use labrpc_sim::{ClientEnd, NetError, Network, Server};
use raft_persist::Persister;

use super::context::HotLock;
use crate::panics::as_peer;

/// The slots under the cluster's lock.
struct Slots<R> {
    rafts: Vec<Option<Arc<R>>>,
    connected: Vec<bool>,
    saved: Vec<Option<Persister>>,
    /// `endnames[i][j]`: the end server i uses to reach server j; empty before i's first
    /// start.
    endnames: Vec<Vec<String>>,
    /// How many times each slot was started.
    starts: Vec<u64>,
    /// Which peer each end belongs to (the caller's side) and which peer it reaches, over
    /// every incarnation.
    end_owner: BTreeMap<String, (usize, usize)>,
}

/// `n` peers of type `R` on a simulated network.
pub struct Cluster<R> {
    n: usize,
    net: Network,
    slots: HotLock<Slots<R>>,
    /// Per slot, 1 + the incarnation of the peer running in it (0: none), written under the
    /// slots' lock whenever its peer changes and read without it (see
    /// [`Cluster::running_incarnation`]).
    running: Vec<AtomicU64>,
}

/// The labrpc server name of peer `i`.
pub fn server_name(i: usize) -> String {
    i.to_string()
}

impl<R: LabRaft> Cluster<R> {
    /// `n` empty slots (nothing started, nothing connected) on `net`.
    pub fn new(net: Network, n: usize) -> Self {
        Cluster {
            n,
            net,
            slots: HotLock::new(Slots {
                rafts: (0..n).map(|_| None).collect(),
                connected: vec![false; n],
                saved: vec![None; n],
                endnames: vec![Vec::new(); n],
                starts: vec![0; n],
                end_owner: BTreeMap::new(),
            }),
            running: (0..n).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Number of peers.
    pub fn n(&self) -> usize {
        self.n
    }

    /// The network.
    pub fn net(&self) -> &Network {
        &self.net
    }

    /// Go's `crash1(i)` (spec 3.3): disconnect, delete the server, kill the peer, and give
    /// the slot a fresh persister holding a copy of the state, so the zombie's later writes
    /// land in an object nobody reads.
    pub fn crash1(&self, i: usize) -> Result<(), NetError> {
        self.disconnect(i)?;
        self.net.delete_server(&server_name(i));
        let rf = {
            let mut st = self.slots.lock();
            st.saved[i] = st.saved[i].as_ref().map(Persister::copy);
            self.running[i].store(0, Ordering::Release);
            st.rafts[i].take()
        };
        if let Some(rf) = rf {
            as_peer(i, || rf.kill());
        }
        let mut st = self.slots.lock();
        if let Some(p) = &st.saved[i] {
            let fresh = Persister::new();
            fresh.save(p.read_raft_state(), p.read_snapshot());
            st.saved[i] = Some(fresh);
        }
        Ok(())
    }

    /// Go's `start1(i)` (spec 3.4) without the applier: crash1, new disabled ends named
    /// `end_names` (one per peer), a copy of the persister, then `boot(ends, persister,
    /// incarnation)` makes the peer (and starts whatever reads its apply channel), then its
    /// server is registered. Does not connect. `incarnation` is 0 on the first start.
    pub fn start1<E: From<NetError>>(
        &self,
        i: usize,
        end_names: Vec<String>,
        boot: impl FnOnce(Vec<ClientEnd>, Persister, u64) -> Result<Arc<R>, E>,
    ) -> Result<Arc<R>, E> {
        self.crash1(i)?;
        let mut ends: Vec<ClientEnd> = Vec::with_capacity(self.n);
        for (j, name) in end_names.iter().enumerate() {
            ends.push(self.net.make_end(name)?);
            self.net.connect(name, &server_name(j))?;
        }
        let (persister, incarnation) = {
            let mut st = self.slots.lock();
            for (j, name) in end_names.iter().enumerate() {
                st.end_owner.insert(name.clone(), (i, j));
            }
            st.endnames[i] = end_names;
            let p = match &st.saved[i] {
                Some(p) => p.copy(),
                None => Persister::new(),
            };
            st.saved[i] = Some(p.clone());
            st.starts[i] += 1;
            (p, st.starts[i] - 1)
        };
        let peer = as_peer(i, || boot(ends, persister, incarnation))?;
        {
            let mut st = self.slots.lock();
            st.rafts[i] = Some(Arc::clone(&peer));
            self.running[i].store(st.starts[i], Ordering::Release);
        }
        let mut server = Server::new();
        server.add_service(as_peer(i, || Arc::clone(&peer).service()));
        self.net.add_server(&server_name(i), server);
        Ok(peer)
    }

    /// Go's `connect(i)` (spec 3.5): enables i's links to and from every connected server.
    pub fn connect(&self, i: usize) -> Result<(), NetError> {
        let mut st = self.slots.lock();
        st.connected[i] = true;
        let on: Vec<usize> = (0..self.n).filter(|&j| st.connected[j]).collect();
        for &j in &on {
            if let Some(name) = st.endnames[i].get(j) {
                self.net.enable(name, true)?;
            }
        }
        for &j in &on {
            if let Some(name) = st.endnames[j].get(i) {
                self.net.enable(name, true)?;
            }
        }
        Ok(())
    }

    /// Go's `disconnect(i)` (spec 3.5): disables every link to and from i.
    pub fn disconnect(&self, i: usize) -> Result<(), NetError> {
        let mut st = self.slots.lock();
        st.connected[i] = false;
        for j in 0..self.n {
            if let Some(name) = st.endnames[i].get(j) {
                self.net.enable(name, false)?;
            }
        }
        for j in 0..self.n {
            if let Some(name) = st.endnames[j].get(i) {
                self.net.enable(name, false)?;
            }
        }
        Ok(())
    }

    /// The incarnation of slot i: 0 for its first start, one more for every restart.
    pub fn incarnation(&self, i: usize) -> u64 {
        self.slots.lock().starts[i].saturating_sub(1)
    }

    /// Enables or disables the one-way link from peer `from` to peer `to` (`from`'s requests
    /// to `to`, and their replies), whatever `connect`/`disconnect` said. For scenarios that
    /// need a peer to hear replies but no requests.
    pub fn set_link(&self, from: usize, to: usize, on: bool) -> Result<(), NetError> {
        let st = self.slots.lock();
        match st.endnames[from].get(to) {
            Some(name) => self.net.enable(name, on),
            None => Ok(()),
        }
    }

    /// Whether server i is connected.
    pub fn is_connected(&self, i: usize) -> bool {
        self.slots.lock().connected[i]
    }

    /// The running peer i, or `None` while it is crashed (Go's `cfg.rafts[i]`).
    pub fn raft(&self, i: usize) -> Option<Arc<R>> {
        self.slots.lock().rafts[i].clone()
    }

    /// The running peer i and its incarnation, read together (a restart between two reads
    /// would pair a peer with another incarnation's number).
    pub fn raft_and_incarnation(&self, i: usize) -> Option<(Arc<R>, u64)> {
        let st = self.slots.lock();
        let rf = st.rafts[i].clone()?;
        Some((rf, st.starts[i].saturating_sub(1)))
    }

    /// The incarnation of the peer running in slot i, or `None` while it is crashed: what
    /// [`Cluster::raft_and_incarnation`] would pair the peer with, without its lock. A caller
    /// that holds a peer of this incarnation holds the running one.
    pub fn running_incarnation(&self, i: usize) -> Option<u64> {
        self.running[i].load(Ordering::Acquire).checked_sub(1)
    }

    /// The connected, running peers, in id order (read under the lock, used outside it).
    pub fn connected_rafts(&self) -> Vec<(usize, Arc<R>)> {
        let st = self.slots.lock();
        (0..self.n)
            .filter(|&i| st.connected[i])
            .filter_map(|i| st.rafts[i].clone().map(|r| (i, r)))
            .collect()
    }

    /// Every running peer, in id order.
    pub fn all_rafts(&self) -> Vec<(usize, Arc<R>)> {
        let st = self.slots.lock();
        (0..self.n)
            .filter_map(|i| st.rafts[i].clone().map(|r| (i, r)))
            .collect()
    }

    /// The peer whose end `end` is (the caller of an RPC sent on it).
    pub fn peer_of_end(&self, end: &str) -> Option<usize> {
        self.link_of_end(end).map(|(from, _)| from)
    }

    /// The peers an end links: its owner (the caller) and the peer it reaches.
    pub fn link_of_end(&self, end: &str) -> Option<(usize, usize)> {
        self.slots.lock().end_owner.get(end).copied()
    }

    /// The peer whose server is called `server`.
    pub fn peer_of_server(&self, server: &str) -> Option<usize> {
        server.parse().ok().filter(|&i: &usize| i < self.n)
    }

    /// The persister slot i restarts from (Go's `cfg.saved[i]`), once i has been started.
    pub fn saved(&self, i: usize) -> Option<Persister> {
        self.slots.lock().saved[i].clone()
    }

    /// Go's `LogSize()`: the largest persisted Raft state (snapshots excluded).
    pub fn log_size(&self) -> usize {
        self.slots
            .lock()
            .saved
            .iter()
            .flatten()
            .map(Persister::raft_state_size)
            .max()
            .unwrap_or(0)
    }

    /// Kills every running peer and shuts the network (Go's `cleanup()`), returning the
    /// peers that were running (for their `missing()` hints).
    pub fn shutdown(&self) -> Vec<Arc<R>> {
        let rafts = self.all_rafts();
        for (i, rf) in &rafts {
            as_peer(*i, || rf.kill());
        }
        self.net.cleanup();
        rafts.into_iter().map(|(_, rf)| rf).collect()
    }
}
