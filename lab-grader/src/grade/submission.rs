//! `grader grade --submission PATH`: grades a submission that lives elsewhere, with nothing
//! of its own trusted (issue 27; docs/GRADING.md has the threat model).
//!
//! PATH is either a workspace (a class handout with the student's code, or a copy of this
//! repository) or a single crate (a student's `raft-student` directory, any package name,
//! exporting `Raft: LabRaft` from its library). Either way only the student's code is taken:
//! the crate itself, or a workspace's `raft-student` and `kv-student`, copied into a fresh
//! handout of the sources this grader was built from, with one package added, a peer binary
//! whose `main` is `lab_peer::main_lab::<raft_student::Raft, kv_student::Student>()`; a
//! workspace's own grader, network or harness is never built. Then:
//!
//! 1. `cargo build -p raft-lab-submission-peer` there, **in the sandbox**
//!    ([`super::sandbox`]): offline, no network, read-only sources, a target directory of
//!    this submission's own (never the grader's, never another submission's: with
//!    `--target-dir DIR`, DIR holds only a template of the dependencies, compiled once from
//!    the grader's own sources and copied into each submission's directory);
//! 2. the tests run **in this process**, in process mode: every server (a Raft peer; for Lab
//!    4 with the submission's rsm or key/value server on it) and each test's clerks are a
//!    process of the built binary (`BIN peer SOCKET`), each in a sandbox of its own
//!    ([`super::sandbox::peer_wrapper`], [`Limits::peer`]); the network, the persister, the
//!    checks, the verdict and the record stay here. Process mode has no virtual time: each
//!    test runs `--real-time-runs` times on the wall clock (`--runs` does not apply). 4A-4C
//!    run the submission's layer there (`kv_grader::process::ProcessKv`), or are refused by
//!    a grader whose processes serve Raft peers only (`lab4_refusal` in the module above).
//!
//! Both steps share one wall-clock limit (`--timeout`). At the end, by the tests' end or at
//! the deadline, every peer process is killed ([`close_peers`]: each sandbox's PID namespace
//! goes with it) and, where the sandbox runs as a user of its own, no process of that user is
//! left, before the record is made; the record and every file of it are written by this
//! process only. The build's output is drained and capped (the first and last [`KEEP`] bytes
//! of each stream are kept), read only until the deadline. A build failure or a timeout gives
//! every selected test a zero and a status that says which ([`super::record::Status`]);
//! whatever the peers do (crash, exit, hang, print) is a failure of the tests they were in.
//!
//! `--no-sandbox` grades without the sandbox (a machine you trust): the build in a process
//! group killed at the deadline, the peers as plain child processes; the record says so.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::points::Points;
use super::record::Isolation;
use super::record::{GradeRecord, Status};
use super::sandbox::{Bind, Limits, Sandbox, SandboxError, Spec, peer_wrapper, processes_of};
use super::{GradeCli, grade_cases_with, zero_record};
use crate::harness::PeerLauncher;
use crate::harness::process::{close_peers, set_launcher, take_peer_stats};
use crate::suites::TestCase;

/// Bytes kept from the start and from the end of each output stream of a child.
pub const KEEP: usize = 32 * 1024;

/// A child's output stream: its first and last [`KEEP`] bytes and how many there were.
#[derive(Default)]
struct Captured {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    total: u64,
}

impl Captured {
    fn push(&mut self, bytes: &[u8]) {
        self.total += bytes.len() as u64;
        for &b in bytes {
            if self.head.len() < KEEP {
                self.head.push(b);
            } else {
                if self.tail.len() == KEEP {
                    self.tail.pop_front();
                }
                self.tail.push_back(b);
            }
        }
    }

    fn text(&self) -> String {
        let mut s = String::from_utf8_lossy(&self.head).into_owned();
        let kept = (self.head.len() + self.tail.len()) as u64;
        if self.total > kept {
            s.push_str(&format!(
                "\n[... {} bytes left out ...]\n",
                self.total - kept
            ));
        }
        let tail: Vec<u8> = self.tail.iter().copied().collect();
        s.push_str(&String::from_utf8_lossy(&tail));
        s
    }
}

/// A stream read by a thread of its own into a shared [`Captured`], so that what was read
/// can be taken at any time: a reader is never waited for past the deadline.
struct Drain {
    captured: Arc<Mutex<Captured>>,
    thread: JoinHandle<()>,
}

fn drain(mut stream: impl Read + Send + 'static) -> Drain {
    let captured = Arc::new(Mutex::new(Captured::default()));
    let into = Arc::clone(&captured);
    let thread = std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(&buf[..n]);
        }
    });
    Drain { captured, thread }
}

impl Drain {
    /// What was read, once the stream ended or `until` passed (a pipe some process still
    /// holds open is then left to its thread, which ends when the pipe does).
    fn text(self, until: Instant) -> String {
        while !self.thread.is_finished() && wall_now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.captured
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .text()
    }
}

#[allow(clippy::disallowed_methods)] // the time limit is on the wall clock, by design
fn wall_now() -> Instant {
    Instant::now()
}

/// How long the output pipes are read after the child ended (at most until the deadline):
/// in the sandbox every process is gone with its first one and the pipes close at once;
/// without it, a process left behind may hold them.
const PIPE_GRACE: Duration = Duration::from_secs(2);

/// How a child ended: its status (`None` when killed at the deadline) and its output.
struct Ran {
    status: Option<ExitStatus>,
    stdout: String,
    stderr: String,
}

/// Kills `child` and every process of its group (cargo's rustc children, say); in the
/// sandbox, killing its first process (bwrap) kills every process in it.
fn kill_group(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
}

/// Runs `cmd` in its own process group until it exits or `deadline` passes; then kills the
/// group whatever happened (a normal exit leaves nothing behind either).
fn run_until(mut cmd: Command, deadline: Instant) -> io::Result<Ran> {
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn()?;
    let out = child.stdout.take().map(drain);
    let err = child.stderr.take().map(drain);
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break Some(s);
        }
        if wall_now() >= deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    kill_group(&mut child);
    let _ = child.wait();
    let until = deadline.min(wall_now() + PIPE_GRACE);
    let text = |d: Option<Drain>| d.map(|d| d.text(until)).unwrap_or_default();
    Ok(Ran {
        status,
        stdout: text(out),
        stderr: text(err),
    })
}

/// Where a submission is built and run.
enum Jail {
    /// In the sandbox.
    Sandbox(Sandbox),
    /// Without it (`--no-sandbox`).
    Trusted,
}

/// The paths the sandbox sees (the same for every submission, so a template's fingerprints
/// hold): the workspace and its target directory.
const WS: &str = "/submission";
const TARGET: &str = "/target";

/// File times of the copied handout (all but the student's crates): the same in every
/// workspace, so cargo finds a template's artifacts fresh (2020-01-01).
const HANDOUT_MTIME: u64 = 1_577_836_800;

/// The student's crates a workspace submission contributes.
const STUDENT_CRATES: &[&str] = &["raft-student", "kv-student"];

/// The package of the peer binary added to a submission's workspace, and its binary.
const PEER_PACKAGE: &str = "raft-lab-submission-peer";
const PEER_BIN: &str = "peer";

/// Adds the peer binary's package ([`PEER_PACKAGE`]) to the workspace `ws`: `main` is
/// `lab_peer::main_lab::<raft_student::Raft, kv_student::Student>()`, the student's Raft
/// and Lab 4 layer served as process-mode servers and clerks (`peer SOCKET`).
fn add_peer_package(ws: &Path) -> Result<(), String> {
    let io = |p: &Path, e: io::Error| format!("{}: {e}", p.display());
    let dir = ws.join(PEER_PACKAGE);
    std::fs::create_dir_all(dir.join("src")).map_err(|e| io(&dir, e))?;
    let manifest = format!(
        "[package]\nname = \"{PEER_PACKAGE}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
         publish = false\n\n[[bin]]\nname = \"{PEER_BIN}\"\npath = \"src/main.rs\"\n\n\
         [dependencies]\nlab-peer.workspace = true\nraft-student.workspace = true\n\
         kv-student.workspace = true\n"
    );
    let main = "//! The submission's Raft and Lab 4 layer as process-mode servers and clerks (made \
                by `grade --submission`).\n\
                fn main() {\n    lab_peer::main_lab::<raft_student::Raft, kv_student::Student>()\n}\n";
    for (file, text) in [("Cargo.toml", manifest.as_str()), ("src/main.rs", main)] {
        let path = dir.join(file);
        std::fs::write(&path, text).map_err(|e| io(&path, e))?;
    }
    let root = ws.join("Cargo.toml");
    let mut doc: toml_edit::DocumentMut = std::fs::read_to_string(&root)
        .map_err(|e| io(&root, e))?
        .parse()
        .map_err(|e| format!("{}: {e}", root.display()))?;
    let members = doc["workspace"]["members"]
        .as_array_mut()
        .ok_or_else(|| format!("{}: no workspace.members", root.display()))?;
    members.push(PEER_PACKAGE);
    std::fs::write(&root, doc.to_string()).map_err(|e| io(&root, e))?;
    set_times(&dir).map_err(|e| io(&dir, e))?;
    let when = std::time::UNIX_EPOCH + Duration::from_secs(HANDOUT_MTIME);
    std::fs::File::options()
        .write(true)
        .open(&root)
        .and_then(|f| f.set_modified(when))
        .map_err(|e| io(&root, e))
}

/// A workspace to build for the submission at `path`: a fresh handout with the student's
/// crates (see the module doc) and the peer binary's package ([`add_peer_package`]). `None`
/// for `path` makes the untouched handout (the template).
fn workspace_for(path: Option<&Path>, scratch: &Path) -> Result<PathBuf, String> {
    let ws = workspace_of(path, scratch)?;
    add_peer_package(&ws)?;
    Ok(ws)
}

fn workspace_of(path: Option<&Path>, scratch: &Path) -> Result<PathBuf, String> {
    let ws = scratch.join("workspace");
    let handout = || -> Result<(), String> {
        crate::handout::export(&crate::handout::default_source(), &ws)
            .map_err(|e| format!("cannot make a workspace for the submission: {e}"))?;
        set_times(&ws).map_err(|e| format!("{}: {e}", ws.display()))
    };
    let Some(path) = path else {
        handout()?;
        return Ok(ws);
    };
    let manifest = path.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).map_err(|e| {
        format!(
            "{}: {e} (expected a workspace or a crate)",
            manifest.display()
        )
    })?;
    let doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| format!("{}: {e}", manifest.display()))?;
    if doc.get("workspace").is_some() {
        handout()?;
        let mut found = false;
        for name in STUDENT_CRATES {
            let from = path.join(name);
            if from.join("Cargo.toml").is_file() {
                found = true;
                let to = ws.join(name);
                std::fs::remove_dir_all(&to).map_err(|e| format!("{}: {e}", to.display()))?;
                copy_crate(&from, &to)?;
            }
        }
        if !found {
            return Err(format!(
                "{}: a workspace without a raft-student crate",
                path.display()
            ));
        }
        return Ok(ws);
    }
    let name = doc
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        .ok_or_else(|| {
            format!(
                "{}: neither a [workspace] nor a [package]",
                manifest.display()
            )
        })?
        .to_string();
    handout()?;
    let student = ws.join("raft-student");
    std::fs::remove_dir_all(&student).map_err(|e| format!("{}: {e}", student.display()))?;
    copy_crate(path, &student)?;
    if name != "raft-student" {
        let root = ws.join("Cargo.toml");
        let io = |e: io::Error| format!("{}: {e}", root.display());
        let mut doc: toml_edit::DocumentMut = std::fs::read_to_string(&root)
            .map_err(io)?
            .parse()
            .map_err(|e| format!("{e}"))?;
        let mut dep = toml_edit::InlineTable::new();
        dep.insert("path", "raft-student".into());
        dep.insert("package", name.as_str().into());
        doc["workspace"]["dependencies"]["raft-student"] = toml_edit::value(dep);
        std::fs::write(&root, doc.to_string()).map_err(io)?;
    }
    Ok(ws)
}

/// Gives every file under `dir` the same modification time ([`HANDOUT_MTIME`]).
fn set_times(dir: &Path) -> io::Result<()> {
    let when = std::time::UNIX_EPOCH + Duration::from_secs(HANDOUT_MTIME);
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            set_times(&entry.path())?;
        } else {
            std::fs::File::options()
                .write(true)
                .open(entry.path())?
                .set_modified(when)?;
        }
    }
    Ok(())
}

/// Copies a crate's regular files and directories (readable by the sandbox's user; links and
/// other special files left out), leaving out `target` and `.git`.
fn copy_crate(from: &Path, to: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let io = |p: &Path, e: io::Error| format!("{}: {e}", p.display());
    std::fs::create_dir_all(to).map_err(|e| io(to, e))?;
    for entry in std::fs::read_dir(from).map_err(|e| io(from, e))? {
        let entry = entry.map_err(|e| io(from, e))?;
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        let kind = entry.file_type().map_err(|e| io(&src, e))?;
        if kind.is_dir() {
            copy_crate(&src, &dst)?;
        } else if kind.is_file() {
            std::fs::copy(&src, &dst).map_err(|e| io(&src, e))?;
            std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o644))
                .map_err(|e| io(&dst, e))?;
        }
    }
    Ok(())
}

/// Copies the directory `from` to `to` (file times kept), with `cp`.
fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    let out = Command::new("cp")
        .args(["-a", "--reflink=auto"])
        .arg(from)
        .arg(to)
        .output()
        .map_err(|e| format!("cannot run cp: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "cp {} {}: {}",
            from.display(),
            to.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// `cargo build -p raft-lab-submission-peer` of the workspace `ws` into `target` (sandboxed unless trusted).
fn build_command(jail: &Jail, ws: &Path, target: &Path) -> Result<Command, String> {
    let args: Vec<OsString> = [
        "build",
        "-p",
        PEER_PACKAGE,
        "--offline",
        "--color",
        "never",
        "--message-format=json-render-diagnostics",
    ]
    .map(OsString::from)
    .to_vec();
    match jail {
        Jail::Trusted => {
            let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or("cargo".into()));
            cmd.args(&args)
                .env("CARGO_TARGET_DIR", target)
                .current_dir(ws);
            Ok(cmd)
        }
        Jail::Sandbox(sandbox) => {
            let lock = ws.join("Cargo.lock");
            let mine = |e: io::Error| format!("cannot prepare the sandbox: {e}");
            sandbox.own(target).map_err(mine)?;
            if lock.is_file() {
                sandbox.own_file(&lock).map_err(mine)?;
            }
            let mut spec = Spec::new(sandbox.cargo());
            spec.args = args;
            spec.env = sandbox.build_env();
            spec.env.push(("CARGO_TARGET_DIR".into(), TARGET.into()));
            spec.binds = vec![Bind::ro(ws, WS), Bind::rw(target, TARGET)];
            if lock.is_file() {
                // Cargo may rewrite the lock file (the handout's lists fewer crates).
                spec.binds
                    .push(Bind::rw(&lock, Path::new(WS).join("Cargo.lock")));
            }
            spec.chdir = Some(WS.into());
            spec.toolchain = true;
            Ok(sandbox.command(&spec))
        }
    }
}

/// Builds the workspace's peer binary ([`PEER_PACKAGE`]) into `target`; its path on this
/// machine, or why not.
fn build(
    jail: &Jail,
    ws: &Path,
    target: &Path,
    deadline: Instant,
) -> Result<PathBuf, (Status, String)> {
    let cmd = build_command(jail, ws, target).map_err(|m| (Status::Crashed, m))?;
    let ran = run_until(cmd, deadline)
        .map_err(|e| (Status::BuildFailed, format!("cannot run cargo: {e}")))?;
    match ran.status {
        None => Err((
            Status::TimedOut,
            format!("the build ran past the time limit\n{}", ran.stderr),
        )),
        Some(s) if !s.success() => Err((
            Status::BuildFailed,
            format!("cargo build failed ({s}):\n{}", ran.stderr),
        )),
        Some(_) => {
            let exe = ran
                .stdout
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == PEER_BIN)
                .find_map(|m| m["executable"].as_str().map(PathBuf::from))
                .ok_or_else(|| {
                    (
                        Status::BuildFailed,
                        "the build made no peer binary".to_string(),
                    )
                })?;
            // Where the sandbox's path is on this machine.
            let on_host = match (jail, exe.strip_prefix(TARGET)) {
                (Jail::Sandbox(_), Ok(rest)) => target.join(rest),
                _ => exe,
            };
            Ok(on_host)
        }
    }
}

/// The template of a class's target directory under `dir`: the dependencies and the
/// handout's crates compiled once from this grader's own sources (made if missing), named by
/// a hash of those sources, so a grader built from other sources never takes it for its own
/// (the handout's file times are fixed, so cargo alone would not see the difference).
fn template(jail: &Jail, dir: &Path, deadline: Instant) -> Result<PathBuf, (Status, String)> {
    let fail = |m: String| (Status::Crashed, format!("cannot make the template: {m}"));
    let scratch = dir.join(format!("template-src-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).map_err(|e| fail(e.to_string()))?;
    let made = workspace_for(None, &scratch).map_err(fail).and_then(|ws| {
        let key = tree_hash(&ws).map_err(|e| fail(e.to_string()))?;
        let template = dir.join(format!("template-{key:016x}"));
        if template.join(".complete").is_file() {
            return Ok(template);
        }
        // A build cut short by its deadline is taken up again by the next grade (cargo locks
        // the directory against a second grader's build meanwhile).
        let fresh = dir.join(format!("template-{key:016x}.partial"));
        if let (Jail::Sandbox(sandbox), true) = (jail, fresh.is_dir()) {
            sandbox.own_tree(&fresh).map_err(|e| fail(e.to_string()))?;
        }
        build(jail, &ws, &fresh, deadline)?;
        std::fs::write(fresh.join(".complete"), b"").map_err(|e| fail(e.to_string()))?;
        let _ = std::fs::remove_dir_all(&template);
        std::fs::rename(&fresh, &template).map_err(|e| fail(e.to_string()))?;
        Ok(template)
    });
    let _ = std::fs::remove_dir_all(&scratch);
    made
}

/// A hash (FNV-1a, 64 bits) of the names and contents of the files under `dir`, in order.
fn tree_hash(dir: &Path) -> io::Result<u64> {
    fn walk(dir: &Path, root: &Path, h: &mut u64) -> io::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for e in entries {
            let path = e.path();
            let name = path.strip_prefix(root).unwrap_or(&path).to_string_lossy();
            fnv(h, name.as_bytes());
            if e.file_type()?.is_dir() {
                walk(&path, root, h)?;
            } else {
                fnv(h, &std::fs::read(&path)?);
            }
        }
        Ok(())
    }
    fn fnv(h: &mut u64, bytes: &[u8]) {
        for &b in bytes.iter().chain(&[0xff]) {
            *h ^= u64::from(b);
            *h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    let mut h = 0xcbf2_9ce4_8422_2325;
    walk(dir, dir, &mut h)?;
    Ok(h)
}

/// The sandbox for a grade, or why there is none; `Ok(None)` with `--no-sandbox`.
pub fn sandbox_for(cli: &GradeCli) -> Result<Option<Sandbox>, SandboxError> {
    if cli.no_sandbox {
        return Ok(None);
    }
    // A user of its own per grader process: its processes count against the limit alone.
    let uid = 200_000 + std::process::id() % 100_000;
    let sandbox = Sandbox::new(Limits::default(), uid)?;
    sandbox.probe()?;
    Ok(Some(sandbox))
}

/// Grades the submission at `path` on `cases` (tests on [`ProcessRaft`] peers): a record,
/// whatever the submission does; an error only when the sandbox cannot be made (nothing of
/// the submission ran).
///
/// [`ProcessRaft`]: crate::harness::ProcessRaft
pub fn grade(
    path: &Path,
    cases: &[TestCase],
    points: &Points,
    cli: &GradeCli,
    seed: u64,
) -> Result<GradeRecord, SandboxError> {
    from_outside(path, cli, |jail, deadline| {
        static GRADES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = GRADES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let scratch =
            std::env::temp_dir().join(format!("raft-lab-grade-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&scratch);
        let outcome = std::fs::create_dir_all(&scratch)
            .map_err(|e| (Status::Crashed, format!("{}: {e}", scratch.display())))
            .and_then(|()| {
                let ws =
                    workspace_for(Some(path), &scratch).map_err(|m| (Status::BuildFailed, m))?;
                let target = scratch.join("target");
                if let Some(dir) = &cli.target_dir {
                    let template = template(jail, dir, deadline)?;
                    copy_tree(&template, &target).map_err(|m| (Status::Crashed, m))?;
                    if let Jail::Sandbox(sandbox) = jail {
                        sandbox
                            .own_tree(&target)
                            .map_err(|e| (Status::Crashed, e.to_string()))?;
                    }
                }
                let exe = build(jail, &ws, &target, deadline)?;
                Ok(run_peers(jail, &exe, cases, points, cli, seed, deadline))
            });
        let _ = std::fs::remove_dir_all(&scratch);
        match outcome {
            Ok(record) => record,
            Err((status, message)) => zero_record(cases, points, cli, seed, status, message),
        }
    })
}

/// Grades the peer binary `exe` (a submission already built: `EXE peer SOCKET` serves its
/// Raft) as [`grade`] does after its build: process mode, each peer in the sandbox, the
/// record made here after every process of it is gone.
pub fn grade_binary(
    exe: &Path,
    cases: &[TestCase],
    points: &Points,
    cli: &GradeCli,
    seed: u64,
) -> Result<GradeRecord, SandboxError> {
    from_outside(exe, cli, |jail, deadline| match std::path::absolute(exe) {
        Ok(abs) if abs.is_file() => run_peers(jail, &abs, cases, points, cli, seed, deadline),
        _ => zero_record(
            cases,
            points,
            cli,
            seed,
            Status::Crashed,
            format!("--peer-bin {}: no such file", exe.display()),
        ),
    })
}

/// What [`grade`] and [`grade_binary`] share: the jail (the sandbox, or none with
/// `--no-sandbox`; an error when the sandbox cannot be made, before anything of the
/// submission runs) and the deadline (`--timeout` from now, for everything `grade_in` does);
/// `grade_in` makes the record there, and every record of a grade from outside then says
/// which submission it is of (`submission`, as given), how it was isolated, that it had no
/// virtual-time runs, and its wall time.
fn from_outside(
    submission: &Path,
    cli: &GradeCli,
    grade_in: impl FnOnce(&Jail, Instant) -> GradeRecord,
) -> Result<GradeRecord, SandboxError> {
    let jail = match sandbox_for(cli)? {
        Some(s) => Jail::Sandbox(s),
        None => Jail::Trusted,
    };
    let t0 = wall_now();
    let deadline = t0 + Duration::from_secs(cli.timeout);
    let mut record = grade_in(&jail, deadline);
    record.submission = Some(submission.display().to_string());
    record.isolation = Some(match jail {
        Jail::Sandbox(_) => Isolation::Sandbox,
        Jail::Trusted => Isolation::NoSandbox,
    });
    record.virtual_runs = 0;
    record.wall_secs = t0.elapsed().as_secs_f64();
    Ok(record)
}

/// How long the processes of a sandbox's user may take to be gone after their sandboxes
/// were killed (the kernel tears a PID namespace down asynchronously).
const GONE_WITHIN: Duration = Duration::from_secs(5);

/// Runs `cases` in this process with every peer a process of `exe` (`EXE peer SOCKET`, each in
/// a sandbox of its own unless trusted), until they end or `deadline` passes; then every
/// process of the submission is killed, and only then is the record made.
#[allow(clippy::too_many_arguments)]
fn run_peers(
    jail: &Jail,
    exe: &Path,
    cases: &[TestCase],
    points: &Points,
    cli: &GradeCli,
    seed: u64,
    deadline: Instant,
) -> GradeRecord {
    let mut launcher = PeerLauncher::binary(exe);
    if let Jail::Sandbox(sandbox) = jail {
        let peers = sandbox.clone().with_limits(Limits::peer());
        if sandbox.own_user() {
            launcher.socket_owner = Some(sandbox.uid());
        }
        launcher.wrap = Some(Arc::new(peer_wrapper(peers)));
    }
    set_launcher(Some(launcher));
    let (tx, rx) = std::sync::mpsc::channel();
    let (cases_owned, points_owned, cli_owned) = (cases.to_vec(), points.clone(), cli.clone());
    let spawned = std::thread::Builder::new()
        .name("grade".to_string())
        .spawn(move || {
            let record = grade_cases_with(&cases_owned, &points_owned, &cli_owned, seed, true);
            let _ = tx.send(record);
        });
    let finished = match spawned {
        Ok(_) => rx
            .recv_timeout(deadline.saturating_duration_since(wall_now()))
            .ok(),
        Err(e) => {
            set_launcher(None);
            return zero_record(
                cases,
                points,
                cli,
                seed,
                Status::Crashed,
                format!("cannot start the grade's thread: {e}"),
            );
        }
    };
    // Everything of the submission ends here, before anything is decided: the peers of a run
    // the watchdog abandoned, of a grade past its deadline, and whatever they started.
    let left_running = close_peers();
    set_launcher(None);
    let stats = take_peer_stats();
    let mut note = format!(
        "every peer a process of the submission ({}); peer processes: {} started, {} ended by \
         themselves{}, {} killed by the tests (crashes) or at their end, {left_running} still \
         running at the grade's end (killed)",
        match jail {
            Jail::Sandbox(_) => "each in a sandbox of its own",
            Jail::Trusted => "NOT SANDBOXED: --no-sandbox",
        },
        stats.started,
        stats.exited.values().sum::<usize>(),
        if stats.exited.is_empty() {
            String::new()
        } else {
            let each: Vec<String> = stats
                .exited
                .iter()
                .map(|(how, n)| format!("{n} {how}"))
                .collect();
            format!(" ({})", each.join(", "))
        },
        stats.killed,
    );
    if let Jail::Sandbox(sandbox) = jail {
        if sandbox.own_user() {
            note.push_str(&format!(
                "; {}",
                make_gone(sandbox.uid(), wall_now() + GONE_WITHIN)
            ));
        }
    }
    match finished {
        Some(mut record) => {
            record.message = Some(note);
            record
        }
        None => zero_record(
            cases,
            points,
            cli,
            seed,
            Status::TimedOut,
            format!(
                "the grade ran past the time limit of {} s (build included) and was stopped; \
                 {note}",
                cli.timeout
            ),
        ),
    }
}

/// Waits until no process of user `uid` is left (SIGKILL to any still there after `until`);
/// what it found, for the record.
fn make_gone(uid: u32, until: Instant) -> String {
    loop {
        let left = processes_of(uid);
        if left.is_empty() {
            return "no process of the sandbox's user left".to_string();
        }
        if wall_now() >= until {
            for pid in &left {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .stderr(Stdio::null())
                    .status();
            }
            return format!(
                "{} process(es) of the sandbox's user still there after {GONE_WITHIN:?}, killed",
                left.len()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_output_keeps_head_and_tail() {
        let mut c = Captured::default();
        let big = vec![b'x'; 3 * KEEP];
        c.push(b"start ");
        c.push(&big);
        c.push(b" end");
        let t = c.text();
        assert!(t.starts_with("start xx"));
        assert!(t.ends_with("xx end"));
        assert!(t.contains("bytes left out"));
        assert!(t.len() < 2 * KEEP + 100);
    }

    #[test]
    fn a_child_past_its_deadline_is_killed() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo hello; sleep 30"]);
        let t0 = wall_now();
        let ran = run_until(cmd, t0 + Duration::from_millis(300)).unwrap();
        assert!(ran.status.is_none());
        assert!(t0.elapsed() < Duration::from_secs(10));
        assert_eq!(ran.stdout, "hello\n");
    }

    #[test]
    fn not_a_crate_is_a_build_failure_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let e = workspace_for(Some(dir.path()), dir.path()).unwrap_err();
        assert!(e.contains("expected a workspace or a crate"), "{e}");
    }
}
