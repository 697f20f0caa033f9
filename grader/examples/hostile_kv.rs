//! A hostile Lab 4 submission as a peer binary (`grader/tests/lab4_submissions.rs` grades it
//! with `grade --peer-bin`): the reference Raft under a layer whose servers answer without
//! the log and forge records (see `tests/support/hostile_kv.rs`).

#[path = "../tests/support/hostile_kv.rs"]
#[allow(dead_code)]
mod hostile_kv;

fn main() {
    lab_peer::main_lab::<raft_rpc::RaftPeer, hostile_kv::FakeKv>()
}
