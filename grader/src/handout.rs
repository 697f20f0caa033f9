//! `grader handout <DIR>`: writes a self-contained starter workspace for a class.
//!
//! The handout holds the network (`labrpc-sim`), the persister (`raft-persist`), the lab API
//! (the `api` module of `raft-rpc`, nothing else of it), the grader, the student crate, the
//! guide and a README for students. It holds nothing of the reference Raft: no `raft-core`,
//! and none of `raft-rpc`'s peer modules. Its grader, built without the `reference` feature,
//! grades the student crate by default, so in the new directory `cargo run -p grader -- 2A`
//! works out of the box (and fails until the student writes the code).
//!
//! Manifests are rewritten with `toml_edit`, so comments and layout survive; the lock file is
//! copied so the class builds with the versions this workspace was tested with.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Parser;
use toml_edit::{DocumentMut, Item, Table, value};

/// Crates copied whole (manifest, sources, tests).
const WHOLE_CRATES: &[&str] = &["labrpc-sim", "raft-persist", "raft-student"];

/// Top-level files copied as they are.
const TOP_FILES: &[&str] = &["Cargo.lock", "clippy.toml", ".gitignore", "docs/LAB.md"];

/// The student README, kept beside the grader's sources.
const STUDENT_README: &str = include_str!("../handout/README.md");

/// The handout's `raft-rpc/src/lib.rs`: only the lab API.
const RAFT_RPC_LIB: &str = "\
//! The lab API: what the grader needs from a Raft peer ([`LabRaft`], [`ApplyMsg`], the
//! rendezvous apply channel). Your Raft, in `raft-student`, implements [`LabRaft`].

pub mod api;

pub use api::{
    ApplyClosed, ApplyMsg, ApplyReceiver, ApplySender, LabRaft, PeerArgs, Started, apply_channel,
};
";

/// Why a handout could not be written.
#[derive(Debug, thiserror::Error)]
pub enum HandoutError {
    /// The destination exists and is not empty; nothing was written.
    #[error("{dir} is not empty; choose a new or empty directory (nothing was written)")]
    NotEmpty {
        /// The destination.
        dir: PathBuf,
    },
    /// The source workspace is not where this grader was built from.
    #[error("cannot find the raft-lab workspace at {dir}: {what} is missing; pass --from <DIR>")]
    SourceMissing {
        /// Where it was looked for.
        dir: PathBuf,
        /// The missing file.
        what: String,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A manifest did not parse or lacked an expected table.
    #[error("{path}: cannot rewrite the manifest: {what}")]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// What went wrong.
        what: String,
    },
}

/// `grader handout`: write a starter workspace for a class.
#[derive(Parser, Debug)]
#[command(name = "grader handout")]
pub struct HandoutCli {
    /// Where to write it: a new or empty directory.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The raft-lab workspace to export (default: the one this grader was built from).
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
}

/// The workspace this grader was built from.
pub fn default_source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Runs `handout` with `args` (args[0] is "handout"); returns the exit status.
pub fn main_with_args(args: &[String], out: &mut dyn Write) -> i32 {
    let cli = match HandoutCli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    let source = cli.from.unwrap_or_else(default_source);
    match export(&source, &cli.dir) {
        Ok(files) => {
            let _ = writeln!(
                out,
                "wrote a handout of {} files to {}\nnext: cd {} && cargo run -p grader -- 2A",
                files.len(),
                cli.dir.display(),
                cli.dir.display()
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

/// Writes the handout of workspace `source` into `dest` (new or empty); returns the files
/// written, relative to `dest`.
pub fn export(source: &Path, dest: &Path) -> Result<Vec<PathBuf>, HandoutError> {
    check_source(source)?;
    check_dest(dest)?;
    let mut w = Writer {
        source,
        dest,
        written: Vec::new(),
    };
    for krate in WHOLE_CRATES {
        w.copy_file(&format!("{krate}/Cargo.toml"))?;
        w.copy_tree(&format!("{krate}/src"))?;
        w.copy_tree_if_present(&format!("{krate}/tests"))?;
    }
    for f in TOP_FILES {
        w.copy_file(f)?;
    }
    w.write("README.md", STUDENT_README)?;
    w.write_manifest("Cargo.toml", workspace_manifest)?;
    w.write_manifest("raft-rpc/Cargo.toml", raft_rpc_manifest)?;
    w.copy_file("raft-rpc/src/api.rs")?;
    w.write("raft-rpc/src/lib.rs", RAFT_RPC_LIB)?;
    w.write_manifest("grader/Cargo.toml", grader_manifest)?;
    w.copy_tree("grader/src")?;
    w.copy_tree("grader/handout")?;
    Ok(w.written)
}

fn check_source(source: &Path) -> Result<(), HandoutError> {
    for what in [
        "Cargo.toml",
        "raft-rpc/src/api.rs",
        "raft-student/Cargo.toml",
    ] {
        if !source.join(what).is_file() {
            return Err(HandoutError::SourceMissing {
                dir: source.to_path_buf(),
                what: what.to_string(),
            });
        }
    }
    Ok(())
}

fn check_dest(dest: &Path) -> Result<(), HandoutError> {
    let io = |source| HandoutError::Io {
        path: dest.to_path_buf(),
        source,
    };
    if dest.exists() {
        if fs::read_dir(dest).map_err(io)?.next().is_some() {
            return Err(HandoutError::NotEmpty {
                dir: dest.to_path_buf(),
            });
        }
    } else {
        fs::create_dir_all(dest).map_err(io)?;
    }
    Ok(())
}

/// Copies and writes files below `dest`, remembering what it wrote.
struct Writer<'a> {
    source: &'a Path,
    dest: &'a Path,
    written: Vec<PathBuf>,
}

impl Writer<'_> {
    fn write(&mut self, rel: &str, contents: &str) -> Result<(), HandoutError> {
        let path = self.dest.join(rel);
        let io = |source| HandoutError::Io {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io)?;
        }
        fs::write(&path, contents).map_err(io)?;
        self.written.push(PathBuf::from(rel));
        Ok(())
    }

    fn read(&self, rel: &str) -> Result<String, HandoutError> {
        let path = self.source.join(rel);
        fs::read_to_string(&path).map_err(|source| HandoutError::Io { path, source })
    }

    fn copy_file(&mut self, rel: &str) -> Result<(), HandoutError> {
        let contents = self.read(rel)?;
        self.write(rel, &contents)
    }

    fn copy_tree_if_present(&mut self, rel: &str) -> Result<(), HandoutError> {
        if self.source.join(rel).is_dir() {
            self.copy_tree(rel)?;
        }
        Ok(())
    }

    /// Copies every file below `rel`, in name order (so the file list is deterministic).
    fn copy_tree(&mut self, rel: &str) -> Result<(), HandoutError> {
        let dir = self.source.join(rel);
        let io = |source| HandoutError::Io {
            path: dir.clone(),
            source,
        };
        let mut names: Vec<String> = fs::read_dir(&dir)
            .map_err(io)?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<Result<_, _>>()
            .map_err(io)?;
        names.sort();
        for name in names {
            let child = format!("{rel}/{name}");
            if self.source.join(&child).is_dir() {
                self.copy_tree(&child)?;
            } else {
                self.copy_file(&child)?;
            }
        }
        Ok(())
    }

    fn write_manifest(
        &mut self,
        rel: &str,
        edit: fn(&mut DocumentMut) -> Result<(), String>,
    ) -> Result<(), HandoutError> {
        let path = self.source.join(rel);
        let bad = |what: String| HandoutError::Manifest {
            path: path.clone(),
            what,
        };
        let mut doc: DocumentMut = self.read(rel)?.parse().map_err(|e| bad(format!("{e}")))?;
        edit(&mut doc).map_err(bad)?;
        self.write(rel, &doc.to_string())
    }
}

fn table<'a>(doc: &'a mut DocumentMut, key: &str) -> Result<&'a mut Table, String> {
    doc.get_mut(key)
        .and_then(Item::as_table_mut)
        .ok_or_else(|| format!("no [{key}] table"))
}

/// The workspace without raft-core: the handout's five crates.
fn workspace_manifest(doc: &mut DocumentMut) -> Result<(), String> {
    let ws = table(doc, "workspace")?;
    let mut members = toml_edit::Array::new();
    for m in [
        "labrpc-sim",
        "raft-persist",
        "raft-rpc",
        "raft-student",
        "grader",
    ] {
        members.push(m);
    }
    ws.insert("members", value(members));
    let deps = ws
        .get_mut("dependencies")
        .and_then(Item::as_table_mut)
        .ok_or("no [workspace.dependencies] table")?;
    deps.remove("raft-core");
    Ok(())
}

/// raft-rpc reduced to the lab API: no raft-core, no reference feature, no peer tests.
fn raft_rpc_manifest(doc: &mut DocumentMut) -> Result<(), String> {
    table(doc, "dependencies")?.remove("raft-core");
    doc.remove("features");
    doc.remove("test");
    doc.remove("dev-dependencies");
    Ok(())
}

/// The grader without the reference feature, benches or tests that need the reference peer.
fn grader_manifest(doc: &mut DocumentMut) -> Result<(), String> {
    let mut features = Table::new();
    features.insert("reference", value(toml_edit::Array::new()));
    features
        .key_mut("reference")
        .ok_or("no reference key")?
        .leaf_decor_mut()
        .set_prefix("# Not available in a handout: it holds no reference Raft.\n");
    doc.insert("features", Item::Table(features));
    doc.remove("bench");
    doc.remove("dev-dependencies");
    Ok(())
}
