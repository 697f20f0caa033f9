//! The class handout: it holds nothing of the reference Raft, it builds and grades the student
//! skeleton out of the box, and with the student crate replaced by a thin wrapper around the
//! reference peer it passes 2A — the path from handout to a passing grade works.
//!
//! These tests run cargo on the exported workspace, offline (every crate it needs is already
//! in the local registry cache, since this workspace was built), sharing this workspace's
//! target directory so the registry dependencies are not compiled again.

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

/// Runs `cargo run -p grader -- <args>` in `dir`; returns (exit code, stdout, stderr).
fn grade(dir: &Path, args: &[&str]) -> (i32, String, String) {
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

/// Every file of the reference Raft: raft-core, and raft-rpc's sources other than the API.
fn reference_files() -> Vec<Vec<u8>> {
    let ws = workspace();
    let mut files = files_below(&ws.join("raft-core/src"));
    files.extend(
        files_below(&ws.join("raft-rpc/src"))
            .into_iter()
            .filter(|p| !p.ends_with("api.rs") && !p.ends_with("lib.rs")),
    );
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
                assert!(
                    table.get("raft-core").is_none(),
                    "{} depends on raft-core",
                    f.display()
                );
            }
        }
    }

    let again = grader::handout::export(&workspace(), &dir).unwrap_err();
    assert!(again.to_string().contains("is not empty"), "{again}");
}

#[test]
fn a_fresh_handout_builds_and_grades_the_skeleton_with_hints() {
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

    let (code, _, stderr) = grade(tmp.path(), &["2A", "--impl", "reference"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("built without the reference Raft"),
        "{stderr}"
    );
}

/// A manifest for the wrapper crate: raft-rpc's own dependencies (so it never drifts from
/// them), with raft-core taken from this workspace and the lab API from the handout.
fn wrapper_manifest(ws: &Path) -> String {
    let rpc: toml_edit::DocumentMut = fs::read_to_string(ws.join("raft-rpc/Cargo.toml"))
        .expect("read raft-rpc's manifest")
        .parse()
        .expect("parse raft-rpc's manifest");
    let mut deps = toml_edit::Table::new();
    for (name, item) in rpc["dependencies"].as_table().expect("dependencies").iter() {
        if name == "raft-core" {
            let mut t = toml_edit::InlineTable::new();
            t.insert("path", ws.join("raft-core").display().to_string().into());
            deps.insert(name, toml_edit::value(t));
        } else {
            deps.insert(name, item.clone());
        }
    }
    let mut rpc_dep = toml_edit::InlineTable::new();
    rpc_dep.insert("path", "../raft-rpc".into());
    deps.insert("raft-rpc", toml_edit::value(rpc_dep));
    format!(
        "[package]\nname = \"raft-student\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [lib]\nname = \"raft_student\"\n\n[dependencies]\n{deps}"
    )
}

/// The student crate replaced by the reference peer's own modules (compiled in place from
/// this workspace, on top of the handout's lab API) passes 2A in the handout.
#[test]
fn a_handout_whose_student_crate_wraps_the_reference_peer_passes_2a() {
    let tmp = tempfile::tempdir().unwrap();
    export_to(tmp.path());
    let ws = workspace();
    let student = tmp.path().join("raft-student");
    fs::remove_dir_all(&student).unwrap();
    fs::create_dir_all(student.join("src")).unwrap();
    fs::write(student.join("Cargo.toml"), wrapper_manifest(&ws)).unwrap();
    let module = |name: &str| {
        format!(
            "#[path = \"{}\"]\nmod {name};\n",
            ws.join("raft-rpc/src").join(format!("{name}.rs")).display()
        )
    };
    let mut lib = String::from(
        "//! The reference peer, wrapped as the student's crate.\n\
         pub use raft_rpc::api;\npub use peer::RaftPeer as Raft;\n",
    );
    for f in files_below(&ws.join("raft-rpc/src")) {
        let stem = f.file_stem().unwrap().to_string_lossy().into_owned();
        if stem != "lib" && stem != "api" {
            lib.push_str(&module(&stem));
        }
    }
    fs::write(student.join("src/lib.rs"), lib).unwrap();

    let (code, stdout, stderr) = grade(tmp.path(), &["2A", "--seed", "3"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("3 passed, 0 failed"), "{stdout}");
}
