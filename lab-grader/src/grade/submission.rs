//! `grader grade --submission PATH`: grades a submission that lives elsewhere, in a child
//! process, so that nothing it does can crash the grader.
//!
//! PATH is either a workspace with a `grader` binary package (a class handout, or a copy of
//! this repository), graded as it is, or a single crate (a student's `raft-student`
//! directory, any package name, exporting `Raft: LabRaft` from its library), which is put in
//! a fresh handout of this workspace in place of the skeleton (so this needs the raft-lab
//! sources this grader was built from). Then:
//!
//! 1. `cargo build -p grader` in the workspace (cargo from `$CARGO` or the path; it honours
//!    `CARGO_TARGET_DIR`, so a class can share one target directory, and
//!    `CARGO_NET_OFFLINE=true`);
//! 2. the built grader runs `grade --json FILE` with this grade's flags (the seed resolved
//!    here, the points file made absolute), and its record is read back from FILE.
//!
//! Both steps share one wall-clock limit (`--timeout`); on expiry the child's whole process
//! group is killed. Output is drained and capped (the first and last [`KEEP`] bytes of each
//! stream are kept), so a peer that prints megabytes is harmless, and stdout is never parsed.
//! A build failure, a timeout, an exit without a record, or a record that does not parse
//! each give every selected test a zero and a status that says which
//! ([`super::record::Status`]), with the build errors or the last output in its message.
//!
//! A submission's build scripts and tests run with the grader's rights: grade untrusted code
//! in a container or a throwaway account.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::points::Points;
use super::record::{GradeRecord, Status};
use super::{GradeCli, zero_record};
use crate::cli::PartArg;
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

fn drain(mut stream: impl Read + Send + 'static) -> JoinHandle<Captured> {
    std::thread::spawn(move || {
        let mut c = Captured::default();
        let mut buf = [0u8; 8192];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            c.push(&buf[..n]);
        }
        c
    })
}

#[allow(clippy::disallowed_methods)] // the time limit is on the wall clock, by design
fn wall_now() -> Instant {
    Instant::now()
}

/// How a child ended: its status (`None` when killed at the deadline) and its output.
struct Ran {
    status: Option<ExitStatus>,
    stdout: String,
    stderr: String,
}

/// Kills `child` and every process of its group (cargo's rustc children, say).
fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
}

/// Runs `cmd` in its own process group until it exits or `deadline` passes.
fn run_until(mut cmd: Command, deadline: Instant) -> io::Result<Ran> {
    #[cfg(unix)]
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
            kill_group(&mut child);
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = |h: Option<JoinHandle<Captured>>| {
        h.and_then(|h| h.join().ok())
            .map(|c| c.text())
            .unwrap_or_default()
    };
    Ok(Ran {
        status,
        stdout: text(out),
        stderr: text(err),
    })
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

/// A workspace to build for the submission at `path` (see the module doc).
fn workspace_for(path: &Path, scratch: &Path) -> Result<PathBuf, String> {
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
        return Ok(path.to_path_buf());
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
    let ws = scratch.join("workspace");
    crate::handout::export(&crate::handout::default_source(), &ws)
        .map_err(|e| format!("cannot make a workspace for the crate: {e}"))?;
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

/// Copies a crate's files, leaving out `target` and `.git`.
fn copy_crate(from: &Path, to: &Path) -> Result<(), String> {
    let io = |p: &Path, e: io::Error| format!("{}: {e}", p.display());
    std::fs::create_dir_all(to).map_err(|e| io(to, e))?;
    for entry in std::fs::read_dir(from).map_err(|e| io(from, e))? {
        let entry = entry.map_err(|e| io(from, e))?;
        let name = entry.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if src.is_dir() {
            copy_crate(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).map_err(|e| io(&src, e))?;
        }
    }
    Ok(())
}

/// Builds the workspace's `grader` binary; its path, or why not.
fn build(
    ws: &Path,
    target_dir: Option<&Path>,
    deadline: Instant,
) -> Result<PathBuf, (Status, String)> {
    let mut cmd = Command::new(cargo());
    if let Some(dir) = target_dir {
        cmd.env(
            "CARGO_TARGET_DIR",
            std::path::absolute(dir).unwrap_or(dir.to_path_buf()),
        );
    }
    cmd.args([
        "build",
        "-p",
        "grader",
        "--color",
        "never",
        "--message-format=json-render-diagnostics",
    ])
    .current_dir(ws);
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
        Some(_) => ran
            .stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "grader")
            .find_map(|m| m["executable"].as_str().map(PathBuf::from))
            .ok_or_else(|| {
                (
                    Status::BuildFailed,
                    "the build made no `grader` binary".to_string(),
                )
            }),
    }
}

/// The flags of this grade, for the submission's grader.
fn forwarded(cli: &GradeCli, seed: u64, json: &Path) -> Vec<String> {
    let mut args = vec!["grade".to_string()];
    for p in &cli.parts {
        args.push(match p {
            PartArg::One(p) => p.to_string(),
            PartArg::All => "all".to_string(),
        });
    }
    let mut flag = |name: &str, value: String| {
        args.push(name.to_string());
        args.push(value);
    };
    flag("--seed", seed.to_string());
    flag("--runs", cli.runs.to_string());
    flag("--real-time-runs", cli.real_time_runs.to_string());
    flag("--json", json.display().to_string());
    if let Some(t) = &cli.test {
        flag("--test", t.clone());
    }
    if let Some(p) = &cli.points {
        let abs = std::path::absolute(p).unwrap_or_else(|_| p.clone());
        flag("--points", abs.display().to_string());
    }
    if let Some(j) = cli.jobs {
        flag("--jobs", j.to_string());
    }
    if let Some(i) = &cli.implementation {
        flag("--impl", i.clone());
    }
    if let Some(k) = &cli.kv {
        flag("--kv", k.clone());
    }
    if cli.no_invariants {
        args.push("--no-invariants".to_string());
    }
    args
}

/// Grades the submission at `path`: a record, whatever happens to it.
pub fn grade(
    path: &Path,
    cases: &[TestCase],
    points: &Points,
    cli: &GradeCli,
    seed: u64,
) -> GradeRecord {
    let t0 = wall_now();
    let deadline = t0 + Duration::from_secs(cli.timeout);
    let scratch =
        std::env::temp_dir().join(format!("raft-lab-grade-{}-{seed}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let outcome = std::fs::create_dir_all(&scratch)
        .map_err(|e| (Status::Crashed, format!("{}: {e}", scratch.display())))
        .and_then(|()| {
            let ws = workspace_for(path, &scratch).map_err(|m| (Status::BuildFailed, m))?;
            let exe = build(&ws, cli.target_dir.as_deref(), deadline)?;
            run_grader(&exe, &ws, &scratch, cli, seed, deadline)
        });
    let _ = std::fs::remove_dir_all(&scratch);
    let mut record = match outcome {
        Ok(record) => record,
        Err((status, message)) => zero_record(cases, points, cli, seed, status, message),
    };
    record.submission = Some(path.display().to_string());
    record.wall_secs = t0.elapsed().as_secs_f64();
    record
}

fn run_grader(
    exe: &Path,
    ws: &Path,
    scratch: &Path,
    cli: &GradeCli,
    seed: u64,
    deadline: Instant,
) -> Result<GradeRecord, (Status, String)> {
    let json = scratch.join("record.json");
    let mut cmd = Command::new(exe);
    cmd.args(forwarded(cli, seed, &json)).current_dir(ws);
    let ran = run_until(cmd, deadline).map_err(|e| {
        (
            Status::Crashed,
            format!("cannot run {}: {e}", exe.display()),
        )
    })?;
    let last_words = || format!("stderr:\n{}\nstdout:\n{}", ran.stderr, ran.stdout);
    let Some(status) = ran.status else {
        return Err((
            Status::TimedOut,
            format!(
                "killed after the time limit of {} s\n{}",
                cli.timeout,
                last_words()
            ),
        ));
    };
    let Ok(text) = std::fs::read_to_string(&json) else {
        return Err((
            Status::Crashed,
            format!(
                "the submission's grader exited ({status}) without a record\n{}",
                last_words()
            ),
        ));
    };
    GradeRecord::from_json(&text).map_err(|e| {
        (
            Status::BadOutput,
            format!("its record does not parse: {e}\n{}", last_words()),
        )
    })
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
        let e = workspace_for(dir.path(), dir.path()).unwrap_err();
        assert!(e.contains("expected a workspace or a crate"), "{e}");
    }
}
