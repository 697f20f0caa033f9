//! `cargo run -p grader -- <PART>...`: grades the reference peer. See `--help`.

fn main() {
    std::process::exit(grader::cli::main::<raft_rpc::RaftPeer>());
}
