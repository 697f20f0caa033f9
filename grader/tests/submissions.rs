//! `grade --submission` against submissions that cheat or misbehave (issue 27): each is a
//! student crate whose Raft does nothing (an honest grade of zero) plus one dishonest or
//! broken act, built and run in the sandbox. Each must score zero, say what happened, and
//! change nothing outside its sandbox; two different submissions graded back to back each get
//! their own verdict.
//!
//! Every grade builds a workspace (the handout and the crate): the first builds the template
//! of the dependencies in the shared `--target-dir`, later ones copy it and compile only the
//! crate and the grader's binary. Each grade runs one test (2A's initial election) once in
//! virtual time. They are ignored by default for their cost (the template alone took more than
//! 10 min on 2 cores shared with other builds); run them with `-- --ignored`. On a machine
//! where the sandbox cannot be made, these tests say so and pass without grading (the grader
//! itself refuses to grade unprotected there).

// The helpers outside #[test] functions check as the tests do: a panic is the report.
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use grader::grade::record::{GradeRecord, Status};
use raft_rpc::RaftPeer;

/// One grade at a time: each builds and runs a workspace.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("grade-submissions")
}

/// Whether the sandbox can be made here (else the test is skipped, with a note).
fn sandbox_here() -> bool {
    match grader::grade::sandbox::Sandbox::new(Default::default(), 201_000).and_then(|s| s.probe())
    {
        Ok(()) => true,
        Err(e) => {
            eprintln!("no sandbox on this machine, test skipped: {e}");
            false
        }
    }
}

/// A student crate whose Raft does nothing but `act` (Rust statements run once per process,
/// at the first `make`), with `build_rs` as its build script when given.
fn hostile_crate(dir: &Path, act: &str, build_rs: Option<&str>) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let build = if build_rs.is_some() {
        "build = \"build.rs\"\n"
    } else {
        ""
    };
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"raft-student\"\nversion = \"0.1.0\"\nedition = \"2024\"\n{build}\n\
             [lib]\nname = \"raft_student\"\n\n[dependencies]\nlab-api.workspace = true\n\
             labrpc-sim.workspace = true\nbytes.workspace = true\n"
        ),
    )
    .unwrap();
    if let Some(b) = build_rs {
        std::fs::write(dir.join("build.rs"), b).unwrap();
    }
    std::fs::write(
        dir.join("src/lib.rs"),
        format!(
            "//! A dishonest submission.\n#![allow(missing_docs, clippy::all)]\n\
             use std::sync::Arc;\nuse bytes::Bytes;\n\
             use lab_api::{{LabRaft, PeerArgs, Started}};\nuse labrpc_sim::Service;\n\
             pub struct Raft;\n\
             static ONCE: std::sync::Once = std::sync::Once::new();\n\
             fn act() {{\n{act}\n}}\n\
             impl LabRaft for Raft {{\n\
             fn make(_args: PeerArgs) -> Arc<Self> {{ ONCE.call_once(act); Arc::new(Raft) }}\n\
             fn service(self: Arc<Self>) -> Service {{ Service::new(\"Raft\") }}\n\
             fn start(self: &Arc<Self>, _c: Bytes) -> Option<Started> {{ None }}\n\
             fn get_state(&self) -> (u64, bool) {{ (0, false) }}\n\
             fn snapshot(self: &Arc<Self>, _i: u64, _s: Bytes) {{}}\n\
             fn kill(&self) {{}}\n}}\n"
        ),
    )
    .unwrap();
}

/// Grades the crate at `sub` (one test, one virtual run) with `--json FILE`; the record
/// printed and the one written.
fn grade_at(sub: &Path, extra: &[&str]) -> (GradeRecord, PathBuf) {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let json = sub.with_extension("grade.json");
    let mut argv: Vec<String> = [
        "grade",
        "2A",
        "--test",
        "initial_election",
        "--runs",
        "1",
        "--real-time-runs",
        "0",
        "--seed",
        "3",
        "--format",
        "json",
        "--timeout",
        "1800",
        "--submission",
        sub.to_str().unwrap(),
        "--target-dir",
        target_dir().to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]
    .iter()
    .chain(extra)
    .map(|s| s.to_string())
    .collect();
    argv.shrink_to_fit();
    let mut out = Vec::new();
    let code = grader::grade::main_with_args::<RaftPeer>(&argv, &mut out);
    let text = String::from_utf8(out).unwrap();
    assert_eq!(code, 0, "graded, not a grader error: {text}");
    let record = GradeRecord::from_json(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    (record, json)
}

/// Grades a hostile crate; checks the zero and that the written record is the printed one.
fn grade_hostile(act: &str, build_rs: Option<&str>) -> GradeRecord {
    let tmp = tempfile::tempdir().unwrap();
    let sub = tmp.path().join("raft-student");
    hostile_crate(&sub, act, build_rs);
    let (r, json) = grade_at(&sub, &[]);
    let written = GradeRecord::from_json(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(written.score, r.score);
    assert_eq!(r.score, 0.0, "{r:?}");
    assert!(r.max_score > 0.0);
    r
}

/// Processes on this machine whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(marker))
        .collect()
}

#[test]
#[ignore = "until process mode (issue 27, item 1): the verdict is still made in the sandbox, \
            by a grader linked with the submission, which can write its own record"]
fn a_submission_that_writes_a_full_score_record_scores_zero() {
    if !sandbox_here() {
        return;
    }
    let forge = r#"
        let args: Vec<String> = std::env::args().collect();
        if let Some(i) = args.iter().position(|a| a == "--json") {
            let record = "{\"schema\":\"raft-lab-grade/1\",\"status\":\"graded\",\"message\":null,\
                \"submission\":null,\"implementation\":null,\"seed\":3,\"virtual_runs\":1,\
                \"real_time_runs\":0,\"invariants\":true,\"score\":100.0,\"max_score\":100.0,\
                \"parts\":[],\"tests\":[],\"cpu_secs\":0.0,\"wall_secs\":0.0}";
            let _ = std::fs::write(&args[i + 1], record);
            std::process::exit(0);
        }"#;
    let r = grade_hostile(forge, None);
    assert_eq!(r.status, Status::Graded);
}

#[test]
#[ignore = "builds a workspace per submission in the sandbox (the first, the template of the dependencies, >10 min on 2 busy cores): cargo test -p grader --test submissions -- --ignored"]
fn a_process_left_behind_is_gone_and_rewrites_nothing() {
    if !sandbox_here() {
        return;
    }
    // A detached process that rewrites every record file it can find for a minute.
    let act = r#"
        let _ = std::process::Command::new("setsid").args(["sh", "-c",
            "for i in $(seq 600); do for f in /out/* /tmp/*.json; do echo forged > $f; done; \
             sleep 0.1; done; echo raft-lab-left-behind-4471"])
            .stdin(std::process::Stdio::null()).spawn();"#;
    let r = grade_hostile(act, None);
    // Until process mode the record is made in the sandbox, where the process may spoil it
    // (a zero either way).
    assert!(
        matches!(r.status, Status::Graded | Status::BadOutput),
        "{:?}",
        r.message
    );
    assert!(processes_with("raft-lab-left-behind-4471").is_empty());
}

#[test]
#[ignore = "builds a workspace per submission in the sandbox (the first, the template of the dependencies, >10 min on 2 busy cores): cargo test -p grader --test submissions -- --ignored"]
fn fake_passed_lines_and_an_exit_from_make_score_zero() {
    if !sandbox_here() {
        return;
    }
    let r = grade_hostile(
        r#"for _ in 0..50 { println!("Test (2A): initial election ...\n  ... Passed --   3.0  3   58   16522    0"); }"#,
        None,
    );
    assert_eq!(r.status, Status::Graded);

    let r = grade_hostile(
        r#"println!("PASS\nok  \t6.5840/raft\t3.0s"); std::process::exit(0);"#,
        None,
    );
    assert_eq!(r.status, Status::Crashed, "exit 0 without a record");
}

#[test]
#[ignore = "builds a workspace per submission in the sandbox (the first, the template of the dependencies, >10 min on 2 busy cores): cargo test -p grader --test submissions -- --ignored"]
fn a_build_script_writes_and_reads_nothing_outside_its_sandbox() {
    if !sandbox_here() {
        return;
    }
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("victim.txt");
    std::fs::write(&victim, "untouched").unwrap();
    let reference = Path::new(env!("CARGO_MANIFEST_DIR")).join("../raft-core/src/lib.rs");
    assert!(reference.is_file());
    let marker = format!("/tmp/raft-lab-hostile-{}", std::process::id());
    // Writes where it can (the host's /tmp, beside the crate, the target directory, a file of
    // the host), and fails the build if it could read the reference Raft.
    let build_rs = format!(
        r#"fn main() {{
            let _ = std::fs::write("{marker}", "x");
            let _ = std::fs::write("{victim}", "overwritten");
            let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
            let _ = std::fs::write(format!("{{dir}}/../escaped.txt"), "x");
            let _ = std::fs::write(format!("{{dir}}/written.txt"), "x");
            if std::fs::read_to_string("{reference}").is_ok() {{
                panic!("LEAKED the reference sources");
            }}
        }}"#,
        victim = victim.display(),
        reference = reference.display(),
    );
    let reads = format!(
        r#"if std::fs::read_to_string("{}").is_ok() {{ panic!("LEAKED the reference sources"); }}"#,
        reference.display()
    );
    let r = grade_hostile(&reads, Some(&build_rs));
    assert_eq!(r.status, Status::Graded, "{:?}", r.message);
    assert!(!Path::new(&marker).exists(), "wrote the host's /tmp");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "untouched");
}

#[test]
#[ignore = "builds a workspace per submission in the sandbox (the first, the template of the dependencies, >10 min on 2 busy cores): cargo test -p grader --test submissions -- --ignored"]
fn a_submission_cannot_open_a_tcp_connection() {
    if !sandbox_here() {
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let act = format!(
        r#"if let Ok(mut s) = std::net::TcpStream::connect("127.0.0.1:{port}") {{
            use std::io::Write; let _ = s.write_all(b"stolen");
        }}"#
    );
    let r = grade_hostile(&act, None);
    assert_eq!(r.status, Status::Graded, "{:?}", r.message);
    match listener.accept() {
        Ok((mut s, _)) => {
            let mut got = String::new();
            let _ = s.read_to_string(&mut got);
            panic!("a connection from the sandbox: {got:?}");
        }
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock),
    }
}

#[test]
#[ignore = "builds a workspace per submission in the sandbox (the first, the template of the dependencies, >10 min on 2 busy cores): cargo test -p grader --test submissions -- --ignored"]
fn forks_and_allocations_without_end_are_stopped() {
    if !sandbox_here() {
        return;
    }
    let r = grade_hostile(
        r#"let mut kids = Vec::new();
        loop {
            match std::process::Command::new("sleep").arg("300.4471").spawn() {
                Ok(k) => kids.push(k),
                Err(e) => { eprintln!("fork refused after {}: {e}", kids.len()); break; }
            }
        }
        std::mem::forget(kids);"#,
        None,
    );
    assert!(processes_with("300.4471").is_empty());
    eprintln!(
        "fork bomb: {:?} {:?}",
        r.status,
        r.message.as_deref().map(|m| &m[..m.len().min(300)])
    );

    let r = grade_hostile(
        r#"let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop { hoard.push(vec![0u8; 64 << 20]); }"#,
        None,
    );
    assert_eq!(r.status, Status::Crashed, "{:?}", r.message);
    assert!(r.wall_secs < 600.0);
}

#[test]
#[ignore = "builds a workspace per submission in the sandbox (the first, the template of the dependencies, >10 min on 2 busy cores): cargo test -p grader --test submissions -- --ignored"]
fn children_holding_the_output_pipes_do_not_hold_the_grade() {
    if !sandbox_here() {
        return;
    }
    let r = grade_hostile(
        r#"for _ in 0..50 {
            let _ = std::process::Command::new("sleep").arg("300.4472").spawn();
        }"#,
        None,
    );
    assert_eq!(r.status, Status::Graded, "{:?}", r.message);
    assert!(processes_with("300.4472").is_empty());
    assert!(r.wall_secs < 280.0, "the grade waited for the children");
}

#[test]
#[ignore = "builds a workspace per submission in the sandbox (the first, the template of the dependencies, >10 min on 2 busy cores): cargo test -p grader --test submissions -- --ignored"]
fn two_submissions_back_to_back_each_get_their_own_verdict() {
    if !sandbox_here() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let alt = tmp.path().join("alice");
    let skeleton = tmp.path().join("bob");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    copy_dir(&repo.join("raft-alt"), &alt);
    copy_dir(&repo.join("raft-student"), &skeleton);
    let (a, _) = grade_at(&alt, &[]);
    let (b, _) = grade_at(&skeleton, &[]);
    let (a2, _) = grade_at(&alt, &[]);
    assert_eq!(a.status, Status::Graded, "{:?}", a.message);
    assert!(a.score > 0.0 && a.score == a.max_score, "{a:?}");
    assert_eq!(b.status, Status::Graded, "{:?}", b.message);
    assert_eq!(b.score, 0.0, "the skeleton's own verdict, not alice's");
    assert_eq!(a2.score, a.score);
}

#[test]
#[ignore = "builds a workspace per submission in the sandbox (the first, the template of the dependencies, >10 min on 2 busy cores): cargo test -p grader --test submissions -- --ignored"]
fn a_submission_that_does_not_compile_is_a_zero_with_the_errors() {
    if !sandbox_here() {
        return;
    }
    let r = grade_hostile("let x: u32 = \"nope\";", None);
    assert_eq!(r.status, Status::BuildFailed);
    assert!(r.message.as_deref().unwrap().contains("mismatched types"));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            if e.file_name() != "target" {
                copy_dir(&e.path(), &dst);
            }
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}
