//! The class handout: it holds nothing of the reference Raft, it builds and grades the student
//! skeleton out of the box, and with the student crate replaced by a thin wrapper around the
//! reference peer it passes 2A — the path from handout to a passing grade works — and the
//! prebuilt reference it ships grades each half of Lab 4 on the other half's reference.
//!
//! These tests run cargo on the exported workspace, offline (every crate it needs is already
//! in the local registry cache, since this workspace was built), in a target directory of the
//! handouts' own (`target/handout`), never this workspace's: a handout's crates carry the
//! same names as this workspace's, and tests run this workspace's `grader` while a handout
//! builds. So that the registry dependencies are not compiled again (they were, for minutes),
//! that directory is first seeded with a copy of this workspace's compiled registry
//! dependencies ([`seed_from_workspace`]).

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace() -> PathBuf {
    grader::handout::default_source()
}

fn target_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is <target>/tmp; build the handouts in <target>/handout.
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf)
        .join("handout")
}

fn export_to(dir: &Path) -> Vec<PathBuf> {
    grader::handout::export(&workspace(), dir).expect("export")
}

/// The registry packages of this workspace's lock file (the handout's is a copy of it).
fn registry_packages() -> BTreeSet<String> {
    let lock = fs::read_to_string(workspace().join("Cargo.lock")).expect("read Cargo.lock");
    let doc: toml_edit::DocumentMut = lock.parse().expect("parse Cargo.lock");
    let packages = doc
        .get("package")
        .and_then(|p| p.as_array_of_tables())
        .expect("packages in Cargo.lock");
    packages
        .iter()
        .filter(|p| {
            p.get("source")
                .and_then(|s| s.as_str())
                .is_some_and(|s| s.starts_with("registry+"))
        })
        .filter_map(|p| p.get("name").and_then(|n| n.as_str()))
        .map(|n| n.replace('-', "_"))
        .collect()
}

/// The package or crate a unit's file or directory in `deps`, `build` or `.fingerprint` is
/// of (`libtokio-0123456789abcdef.rlib`, `tokio-0123456789abcdef`: `tokio`), with `-` as `_`;
/// `None` for a name without a unit hash.
fn unit_of(name: &str) -> Option<String> {
    let stem = name.split('.').next()?;
    let (krate, hash) = stem.rsplit_once('-')?;
    if hash.len() != 16 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(krate.replace('-', "_"))
}

/// Copies file `from` to `to`, keeping its modification time (cargo compares the times of a
/// unit's outputs with its dependencies').
fn copy_keeping_mtime(from: &Path, to: &Path) {
    fs::copy(from, to).expect("copy a compiled dependency");
    let mtime = fs::metadata(from)
        .and_then(|m| m.modified())
        .expect("read a modification time");
    fs::File::options()
        .write(true)
        .open(to)
        .and_then(|f| f.set_modified(mtime))
        .expect("set a modification time");
}

/// Copies directory `from` to `to` (absent) recursively, keeping modification times.
fn copy_tree_keeping_mtimes(from: &Path, to: &Path) {
    for f in files_below(from) {
        let dest = to.join(f.strip_prefix(from).expect("below"));
        fs::create_dir_all(dest.parent().expect("a parent")).expect("make a directory");
        copy_keeping_mtime(&f, &dest);
    }
}

/// Seeds the handouts' target directory, once per test binary, with this workspace's
/// compiled registry dependencies (`target/debug`'s `deps`, `build` and `.fingerprint` entries
/// of the packages the lock file takes from a registry), copied with their modification
/// times: cargo then finds fresh every dependency the handout compiles with the same version,
/// features and profile (the same unit hash), and compiles only the others (a different
/// feature set) and the handout's own crates. Nothing of this workspace's own crates is
/// copied: a handout's crates have the same names and unit hashes, and their freshness rests
/// on source times, which a copy must not decide. An entry the handout's directory already
/// has is left as it is; copies are made, never links, so a build there never writes into
/// this workspace's target directory.
fn seed_from_workspace() {
    static SEEDED: std::sync::Once = std::sync::Once::new();
    SEEDED.call_once(|| {
        let from = target_dir().with_file_name("debug");
        let to = target_dir().join("debug");
        let registry = registry_packages();
        for sub in ["deps", "build", ".fingerprint"] {
            let Ok(entries) = fs::read_dir(from.join(sub)) else {
                continue;
            };
            fs::create_dir_all(to.join(sub)).expect("make the handouts' target directory");
            for e in entries {
                let e = e.expect("read a directory entry");
                let name = e.file_name().to_string_lossy().into_owned();
                let of = unit_of(name.strip_prefix("lib").unwrap_or(&name));
                let of_registry = of.is_some_and(|k| registry.contains(&k))
                    || unit_of(&name).is_some_and(|k| registry.contains(&k));
                let dest = to.join(sub).join(&name);
                if !of_registry || dest.exists() {
                    continue;
                }
                if e.path().is_dir() {
                    copy_tree_keeping_mtimes(&e.path(), &dest);
                } else {
                    copy_keeping_mtime(&e.path(), &dest);
                }
            }
        }
    });
}

/// Runs `cargo run -p grader -- <args>` in `dir`; returns (exit code, stdout, stderr).
fn grade(dir: &Path, args: &[&str]) -> (i32, String, String) {
    seed_from_workspace();
    let out = Command::new(env!("CARGO"))
        .args(["run", "-q", "--offline", "-p", "grader", "--"])
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .expect("run cargo");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Held by a test while it builds a handout's grader and runs it: the handouts share one
/// target directory, so without it one test's build replaces the `grader` executable another
/// test is about to run as its peers.
fn one_build_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static BUILD: std::sync::Mutex<()> = std::sync::Mutex::new(());
    BUILD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).expect("read a handout directory") {
            let p = e.expect("read a directory entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Every file of the reference Raft and the reference Lab 4 layer: raft-core's, raft-rpc's
/// and kv-ref's sources.
fn reference_files() -> Vec<Vec<u8>> {
    let ws = workspace();
    let mut files = files_below(&ws.join("raft-core/src"));
    files.extend(files_below(&ws.join("raft-rpc/src")));
    files.extend(files_below(&ws.join("kv-ref/src")));
    assert!(files.len() > 10, "found too few reference files: {files:?}");
    files
        .into_iter()
        .map(|p| fs::read(p).expect("read a reference file"))
        .collect()
}

#[test]
fn the_handout_holds_nothing_of_the_reference_raft_and_refuses_a_non_empty_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lab");
    let written = export_to(&dir);
    assert!(
        written
            .iter()
            .any(|p| p == Path::new("raft-student/src/lib.rs"))
    );
    assert!(written.iter().any(|p| p == Path::new("docs/LAB.md")));
    assert!(!dir.join("raft-core").exists());
    assert!(!dir.join("raft-rpc").exists());
    assert!(!dir.join("kv-ref").exists());
    assert!(
        written
            .iter()
            .any(|p| p == Path::new("kv-student/src/rsm.rs"))
    );

    let reference = reference_files();
    for f in files_below(&dir) {
        let bytes = fs::read(&f).unwrap();
        assert!(
            !reference.contains(&bytes),
            "{} is a file of the reference Raft",
            f.display()
        );
        if f.file_name().is_some_and(|n| n == "Cargo.toml") {
            let doc: toml_edit::DocumentMut = String::from_utf8(bytes).unwrap().parse().unwrap();
            let deps = [
                doc.get("dependencies"),
                doc.get("dev-dependencies"),
                doc.get("workspace").and_then(|w| w.get("dependencies")),
            ];
            for table in deps.into_iter().flatten() {
                for reference in ["raft-core", "raft-rpc", "kv-ref"] {
                    assert!(
                        table.get(reference).is_none(),
                        "{} depends on {reference}",
                        f.display()
                    );
                }
            }
        }
    }

    let again = grader::handout::export(&workspace(), &dir).unwrap_err();
    assert!(again.to_string().contains("is not empty"), "{again}");
}

#[test]
fn a_fresh_handout_builds_and_grades_the_skeleton_with_hints() {
    let _build = one_build_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    export_to(tmp.path());
    let (code, stdout, stderr) = grade(tmp.path(), &["2A", "--seed", "1"]);
    assert_eq!(code, 1, "the skeleton must fail 2A\n{stdout}\n{stderr}");
    assert!(stdout.contains("0 passed, 3 failed"), "{stdout}");
    assert!(stdout.contains("expected one leader, got none"), "{stdout}");
    assert!(
        stdout.contains("2A: leader election is not written yet"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("2D: snapshots"),
        "2D hints in a 2A failure\n{stdout}"
    );

    // Lab 4: the skeleton layer on the skeleton Raft fails 4A with the course's message and
    // its own hints.
    let (code, stdout, stderr) = grade(tmp.path(), &["--test", "basic_4a", "--seed", "1"]);
    assert_eq!(code, 1, "the skeleton must fail 4A\n{stdout}\n{stderr}");
    assert!(stdout.contains("expected 0 instead of 0"), "{stdout}");
    assert!(
        stdout.contains("4A: the rsm is not written yet"),
        "{stdout}"
    );

    let (code, _, stderr) = grade(tmp.path(), &["2A", "--impl", "reference"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("built without the reference Raft"),
        "{stderr}"
    );
}

/// Copies directory `from` to `to`, recursively.
fn copy_dir(from: &Path, to: &Path) {
    for f in files_below(from) {
        let rel = f.strip_prefix(from).expect("below");
        if rel.starts_with("target") {
            continue;
        }
        let dest = to.join(rel);
        fs::create_dir_all(dest.parent().expect("a parent")).expect("make a directory");
        fs::copy(&f, &dest).expect("copy a file");
    }
}

/// A handout whose student crate is the reference peer (raft-core and raft-rpc copied in as
/// they are, the student crate re-exporting `RaftPeer`) passes 2A: the handout's grader and
/// lab API are the ones the reference was written against, and the path from handout to a
/// passing grade works.
#[test]
fn a_handout_whose_student_crate_wraps_the_reference_peer_passes_2a() {
    let _build = one_build_at_a_time();
    let tmp = tempfile::tempdir().unwrap();
    export_to(tmp.path());
    let ws = workspace();
    for krate in ["raft-core", "raft-rpc"] {
        copy_dir(&ws.join(krate), &tmp.path().join(krate));
    }
    let root = tmp.path().join("Cargo.toml");
    let mut doc: toml_edit::DocumentMut = fs::read_to_string(&root).unwrap().parse().unwrap();
    let members = doc["workspace"]["members"].as_array_mut().expect("members");
    members.push("raft-core");
    members.push("raft-rpc");
    let deps = doc["workspace"]["dependencies"]
        .as_table_mut()
        .expect("workspace dependencies");
    for krate in ["raft-core", "raft-rpc"] {
        let mut path = toml_edit::InlineTable::new();
        path.insert("path", krate.into());
        deps.insert(krate, toml_edit::value(path));
    }
    fs::write(&root, doc.to_string()).unwrap();

    let student = tmp.path().join("raft-student");
    fs::remove_dir_all(&student).unwrap();
    fs::create_dir_all(student.join("src")).unwrap();
    fs::write(
        student.join("Cargo.toml"),
        "[package]\nname = \"raft-student\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [lib]\nname = \"raft_student\"\n\n[dependencies]\nraft-rpc.workspace = true\n",
    )
    .unwrap();
    fs::write(
        student.join("src/lib.rs"),
        "//! The reference peer, as the student's crate.\npub use raft_rpc::RaftPeer as Raft;\n",
    )
    .unwrap();

    let (code, stdout, stderr) = grade(tmp.path(), &["2A", "--seed", "3"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("3 passed, 0 failed"), "{stdout}");

    // The two halves of Lab 4 graded apart, through the prebuilt reference grader shipped
    // as bin/raft-lab-reference, each Raft peer a process of its own. First the student's
    // Raft (here the wrapper) under the reference key/value layer: the reference grader
    // runs the handout's grader as its peers.
    let reference = Path::new(env!("CARGO_BIN_EXE_grader"));
    grader::handout::ship_reference(reference, tmp.path()).expect("ship the reference");
    let handout_grader = target_dir().join("debug/grader");
    assert!(handout_grader.is_file(), "{}", handout_grader.display());
    let out = Command::new(tmp.path().join(grader::handout::REFERENCE_BIN))
        .args(["4A", "--test", "basic_4a", "--real-time", "--peer-bin"])
        .arg(&handout_grader)
        .current_dir(tmp.path())
        .output()
        .expect("run the shipped reference grader");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("1 passed, 0 failed"), "{stdout}");

    // Then the student's key/value layer (the skeleton) on the reference Raft: the peers
    // work, so the only hint is the key/value layer's.
    let (code, stdout, stderr) = grade(
        tmp.path(),
        &[
            "4A",
            "--test",
            "basic_4a",
            "--real-time",
            "--peer-bin",
            grader::handout::REFERENCE_BIN,
        ],
    );
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("4A: the rsm is not written yet"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("2A:"),
        "the reference Raft peers did not run: {stdout}"
    );
}
