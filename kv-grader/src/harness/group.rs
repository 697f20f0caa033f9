//! A group of servers (Go's `tester1/group.go` and `srv.go`, spec 2.3): each server is a Raft
//! peer and the services on top of it (an rsm test server, or a key/value server), started
//! from its persister, crashed and restarted, connected and partitioned.
//!
//! The course runs each server as its own process; here they share the test's runtime (but
//! when a submission is graded from outside, see [`crate::process`]), and a crash does what
//! the process kill does (spec 8.1): the server is cut off and deleted from
//! the network (in-flight replies are dropped), its persister is checkpointed (a deep copy)
//! before it is stopped, so nothing it writes afterwards survives, and it is stopped with
//! [`Instance::kill`] (the only hook not in Go's API). A restart makes fresh ends, a new
//! persister holding the checkpoint and the same server name.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use grader::panics::as_peer;
use kv_api::ServerArgs;
use lab_api::LabRaft;
use labrpc_sim::{Choices, NetError, Network, Server, Service, Stream};
use raft_persist::Persister;
use tokio::sync::watch;

use super::lock;

/// One server of a group: its Raft peer, its services and how to stop it.
pub trait Instance: Send + Sync + 'static {
    /// Its Raft peer type.
    type Raft: LabRaft;
    /// The Raft peer (registered on the network, inspected by the harness).
    fn raft(&self) -> Arc<Self::Raft>;
    /// The services to register beside the Raft peer's.
    fn services(self: Arc<Self>) -> Vec<Service>;
    /// Stops it (a crash).
    fn kill(&self);
}

/// How the group makes a server.
pub type Boot<I> = Box<dyn Fn(ServerArgs) -> Arc<I> + Send + Sync>;

/// Go's `ServerName(gid, i)` for group 0: `server-0-<i>`.
pub fn server_name(i: usize) -> String {
    format!("server-0-{i}")
}

/// The server index of a server name.
pub fn server_index(name: &str) -> Option<usize> {
    name.strip_prefix("server-0-")?.parse().ok()
}

/// A running server.
struct Live<I> {
    instance: Arc<I>,
    persister: Persister,
    /// Set when the server is crashed: calls the harness made into it fail at once.
    killed: watch::Sender<bool>,
}

struct Slot<I> {
    live: Option<Live<I>>,
    /// The checkpoint a crashed server restarts from (Go's `saved`).
    saved: Option<Persister>,
    connected: bool,
    /// `ends[j]`: this incarnation's end to server j.
    ends: Vec<String>,
    starts: u64,
}

/// A running server as the harness holds it: the instance, and a signal set when it is
/// crashed.
pub struct Handle<I> {
    /// The server.
    pub instance: Arc<I>,
    /// Becomes true when the server is crashed.
    pub killed: watch::Receiver<bool>,
}

/// `n` servers on a network (Go's `ServerGrp`).
pub struct Group<I> {
    n: usize,
    net: Network,
    max_raft_state: Option<usize>,
    test_seed: u64,
    /// The test's choices: each server incarnation's seed is one (see `grader::seed`).
    choices: Choices,
    boot: Boot<I>,
    slots: Mutex<Vec<Slot<I>>>,
    /// Every server-to-server end ever made: (from, to).
    end_owner: Mutex<BTreeMap<String, (usize, usize)>>,
}

impl<I: Instance> Group<I> {
    /// `n` servers, none started yet, made by `boot`; their seeds are choices of `choices`
    /// (recorded as `grader::seed::peer_seed` of `test_seed` gives them).
    pub fn new(
        net: Network,
        n: usize,
        max_raft_state: Option<usize>,
        (test_seed, choices): (u64, Choices),
        boot: Boot<I>,
    ) -> Self {
        let slots = (0..n)
            .map(|_| Slot {
                live: None,
                saved: None,
                connected: false,
                ends: Vec::new(),
                starts: 0,
            })
            .collect();
        Group {
            n,
            net,
            max_raft_state,
            test_seed,
            choices,
            boot,
            slots: Mutex::new(slots),
            end_owner: Mutex::new(BTreeMap::new()),
        }
    }

    /// Number of servers (Go's `N()`).
    pub fn n(&self) -> usize {
        self.n
    }

    /// The servers' names in index order (Go's `SrvNames()`).
    pub fn names(&self) -> Vec<String> {
        (0..self.n).map(server_name).collect()
    }

    /// The link a server-to-server end makes: (from, to).
    pub fn link_of_end(&self, end: &str) -> Option<(usize, usize)> {
        lock(&self.end_owner).get(end).copied()
    }

    /// How many times server i was started, minus one (0 for its first start).
    pub fn incarnation(&self, i: usize) -> u64 {
        lock(&self.slots)[i].starts.saturating_sub(1)
    }

    /// Go's `StartServer(i)`: fresh disabled ends to every server, a persister holding the
    /// last checkpoint (empty the first time), the server made, and its services registered
    /// under its name. Does not connect. A running server i is crashed first.
    pub fn start_server(&self, i: usize) -> Result<(), NetError> {
        self.shutdown_server(i)?;
        let (names, persister, incarnation) = {
            let mut slots = lock(&self.slots);
            let slot = &mut slots[i];
            let incarnation = slot.starts;
            slot.starts += 1;
            let names: Vec<String> = (0..self.n)
                .map(|j| format!("{}->{}#{incarnation}", server_name(i), server_name(j)))
                .collect();
            slot.ends = names.clone();
            let persister = slot
                .saved
                .as_ref()
                .map_or_else(Persister::new, Persister::copy);
            (names, persister, incarnation)
        };
        let mut ends = Vec::with_capacity(self.n);
        for (j, name) in names.iter().enumerate() {
            ends.push(self.net.make_end(name)?);
            self.net.connect(name, &server_name(j))?;
            lock(&self.end_owner).insert(name.clone(), (i, j));
        }
        let seed = self.choices.draw(
            Stream::PeerSeed,
            |_| grader::seed::peer_seed(self.test_seed, i, incarnation),
            u64::MAX,
        );
        let args = ServerArgs {
            servers: ends,
            me: i,
            persister: persister.clone(),
            max_raft_state: self.max_raft_state,
            seed,
            rng: lab_api::PeerRng::from_choices(&self.choices, seed),
        };
        let instance = as_peer(i, || (self.boot)(args));
        let mut server = Server::new();
        server.add_service(as_peer(i, || instance.raft().service()));
        for service in as_peer(i, || Arc::clone(&instance).services()) {
            server.add_service(service);
        }
        lock(&self.slots)[i].live = Some(Live {
            instance,
            persister,
            killed: watch::Sender::new(false),
        });
        self.net.add_server(&server_name(i), server);
        Ok(())
    }

    /// Go's `StartServers()`: start every server, then connect them all.
    pub fn start_servers(&self) -> Result<(), NetError> {
        for i in 0..self.n {
            self.start_server(i)?;
        }
        self.connect_all()
    }

    /// Go's `ShutdownServer(i)`: cut i off from the other servers, delete it from the
    /// network, checkpoint its persister, stop it. Harmless on a crashed server.
    pub fn shutdown_server(&self, i: usize) -> Result<(), NetError> {
        self.disconnect(i, &self.all())?;
        self.net.delete_server(&server_name(i));
        let live = {
            let mut slots = lock(&self.slots);
            let slot = &mut slots[i];
            let live = slot.live.take();
            if let Some(live) = &live {
                slot.saved = Some(live.persister.copy());
            }
            live
        };
        if let Some(live) = live {
            live.killed.send_replace(true);
            as_peer(i, || live.instance.kill());
        }
        Ok(())
    }

    /// Go's `Shutdown()`: every server.
    pub fn shutdown(&self) -> Result<(), NetError> {
        for i in 0..self.n {
            self.shutdown_server(i)?;
        }
        Ok(())
    }

    /// Every server index.
    pub fn all(&self) -> Vec<usize> {
        (0..self.n).collect()
    }

    /// Go's `connect(i, to)`: i is connected; its links to and from each server of `to`
    /// that is connected are enabled.
    pub fn connect(&self, i: usize, to: &[usize]) -> Result<(), NetError> {
        let mut slots = lock(&self.slots);
        slots[i].connected = true;
        for &j in to {
            if !slots[j].connected {
                continue;
            }
            if let Some(name) = slots[i].ends.get(j) {
                self.net.enable(name, true)?;
            }
            if let Some(name) = slots[j].ends.get(i) {
                self.net.enable(name, true)?;
            }
        }
        Ok(())
    }

    /// Go's `disconnect(i, from)`: i is not connected; its links to and from each server of
    /// `from` are disabled.
    pub fn disconnect(&self, i: usize, from: &[usize]) -> Result<(), NetError> {
        let mut slots = lock(&self.slots);
        slots[i].connected = false;
        for &j in from {
            if let Some(name) = slots[i].ends.get(j) {
                self.net.enable(name, false)?;
            }
            if let Some(name) = slots[j].ends.get(i) {
                self.net.enable(name, false)?;
            }
        }
        Ok(())
    }

    /// Go's `ConnectOne(i)`.
    pub fn connect_one(&self, i: usize) -> Result<(), NetError> {
        self.connect(i, &self.all())
    }

    /// Go's `ConnectAll()`.
    pub fn connect_all(&self) -> Result<(), NetError> {
        for i in 0..self.n {
            self.connect_one(i)?;
        }
        Ok(())
    }

    /// Go's `DisconnectAll(i)`.
    pub fn disconnect_all(&self, i: usize) -> Result<(), NetError> {
        self.disconnect(i, &self.all())
    }

    /// Go's `IsConnected(i)`.
    pub fn is_connected(&self, i: usize) -> bool {
        lock(&self.slots)[i].connected
    }

    /// Go's `Partition(p1, p2)`: the servers of each side talk only among themselves (every
    /// connected flag stays true; clients are never cut off).
    pub fn partition(&self, p1: &[usize], p2: &[usize]) -> Result<(), NetError> {
        for &i in p1 {
            self.disconnect(i, p2)?;
            self.connect(i, p1)?;
        }
        for &i in p2 {
            self.disconnect(i, p1)?;
            self.connect(i, p2)?;
        }
        Ok(())
    }

    /// Go's `MakePartition(l)`: a majority of the servers other than `l` in index order,
    /// and the rest with `l` last.
    pub fn make_partition(&self, l: usize) -> (Vec<usize>, Vec<usize>) {
        let others: Vec<usize> = (0..self.n).filter(|&i| i != l).collect();
        let (p1, rest) = others.split_at((self.n / 2 + 1).min(others.len()));
        let mut p2 = rest.to_vec();
        p2.push(l);
        (p1.to_vec(), p2)
    }

    /// The running server i and its incarnation, read together (a restart between two reads
    /// would pair a server with another incarnation's number); `None` while it is crashed.
    pub fn instance_and_incarnation(&self, i: usize) -> Option<(Arc<I>, u64)> {
        let slots = lock(&self.slots);
        let live = slots[i].live.as_ref()?;
        Some((
            Arc::clone(&live.instance),
            slots[i].starts.saturating_sub(1),
        ))
    }

    /// The running server i, with its crash signal; `None` while it is crashed.
    pub fn handle(&self, i: usize) -> Option<Handle<I>> {
        let slots = lock(&self.slots);
        let live = slots[i].live.as_ref()?;
        Some(Handle {
            instance: Arc::clone(&live.instance),
            killed: live.killed.subscribe(),
        })
    }

    /// Every running server's instance, in index order.
    pub fn running(&self) -> Vec<(usize, Arc<I>)> {
        let slots = lock(&self.slots);
        slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.live.as_ref().map(|l| (i, Arc::clone(&l.instance))))
            .collect()
    }

    /// The persister of each server as the harness would measure it: the live one's, or the
    /// checkpoint of a crashed one.
    fn persisters(&self) -> Vec<Persister> {
        let slots = lock(&self.slots);
        slots
            .iter()
            .filter_map(|s| match &s.live {
                Some(l) => Some(l.persister.clone()),
                None => s.saved.clone(),
            })
            .collect()
    }

    /// Go's `RaftSize()`: the largest Raft state of any server.
    pub fn raft_size(&self) -> usize {
        self.persisters()
            .iter()
            .map(Persister::raft_state_size)
            .max()
            .unwrap_or(0)
    }

    /// Go's `SnapshotSize()`: the largest snapshot of any server.
    pub fn snapshot_size(&self) -> usize {
        self.persisters()
            .iter()
            .map(Persister::snapshot_size)
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_partitions_as_go() {
        assert_eq!(server_name(3), "server-0-3");
        assert_eq!(server_index("server-0-3"), Some(3));
        assert_eq!(server_index("3"), None);
        struct Nothing;
        impl Instance for Nothing {
            type Raft = NoRaft;
            fn raft(&self) -> Arc<NoRaft> {
                Arc::new(NoRaft)
            }
            fn services(self: Arc<Self>) -> Vec<Service> {
                Vec::new()
            }
            fn kill(&self) {}
        }
        struct NoRaft;
        impl LabRaft for NoRaft {
            fn make(_: lab_api::PeerArgs) -> Arc<Self> {
                Arc::new(NoRaft)
            }
            fn service(self: Arc<Self>) -> Service {
                Service::new("Raft")
            }
            fn start(self: &Arc<Self>, _: bytes::Bytes) -> Option<lab_api::Started> {
                None
            }
            fn get_state(&self) -> (u64, bool) {
                (0, false)
            }
            fn snapshot(self: &Arc<Self>, _: u64, _: bytes::Bytes) {}
            fn kill(&self) {}
        }
        let g = |n| {
            Group::<Nothing>::new(
                Network::new(1),
                n,
                None,
                (1, grader::seed::choices(1, None)),
                Box::new(|_| Arc::new(Nothing)),
            )
        };
        assert_eq!(g(5).make_partition(0), (vec![1, 2, 3], vec![4, 0]));
        assert_eq!(g(3).make_partition(0), (vec![1, 2], vec![0]));
        assert_eq!(g(5).make_partition(2), (vec![0, 1, 3], vec![4, 2]));
    }
}
