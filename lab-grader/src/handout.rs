//! `grader handout <DIR>`: writes a self-contained starter workspace for a class.
//!
//! The handout holds, copied as they are, the network (`labrpc-sim`), the persister
//! (`raft-persist`), the lab API (`lab-api`), the grader library (`lab-grader`), the student
//! crate, Lab 4's API (`kv-api`), student crate (`kv-student`), tests (`kv-grader`) and the
//! linearizability checker they use (`linearize`), the guide and a README for students, plus
//! the handout's own `grader` binary (`handout/grader` here), which grades only the student
//! crates. It holds nothing of the reference Raft (`raft-core`, `raft-rpc`) or of the
//! reference Lab 4 layer (`kv-ref`) in source: the reference comes only as a prebuilt
//! executable, `bin/raft-lab-reference` (this grader, copied), which process mode runs as
//! Raft peers under the student's key/value layer, or which runs the reference key/value
//! layer over the student's Raft peers. In the new directory `cargo run -p grader -- 2A` (and
//! `-- 4A`) works out of the box (and fails until the student writes the code).
//!
//! The one manifest edited is the workspace's: its member list and its dependency table lose
//! the reference crates (with `toml_edit`, so comments and layout survive); the lock file is
//! copied so the class builds with the versions this workspace was
//! tested with.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Parser;
use toml_edit::{DocumentMut, Item, Table, value};

/// Crates copied whole (manifest, sources, tests).
const WHOLE_CRATES: &[&str] = &[
    "labrpc-sim",
    "raft-persist",
    "lab-api",
    "lab-peer",
    "lab-grader",
    "raft-student",
    "linearize",
    "kv-api",
    "kv-grader",
    "kv-student",
];

/// The reference crates (the reference Raft, the second Raft kept to test the grader, the
/// reference Lab 4 layer): left out, and out of the workspace's dependency table.
const REFERENCE_CRATES: &[&str] = &["raft-core", "raft-rpc", "raft-alt", "kv-ref"];

/// Where the handout's `grader` binary package lives in this workspace (it becomes `grader`).
const HANDOUT_GRADER: &str = "handout/grader";

/// Top-level files copied as they are.
const TOP_FILES: &[&str] = &[
    "Cargo.lock",
    "clippy.toml",
    ".gitignore",
    "docs/LAB.md",
    // tokio's task hooks, which tell whose output a line is.
    ".cargo/config.toml",
];

/// The student README (the handout's `README.md`).
const STUDENT_README: &str = "handout/README.md";

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
    /// The prebuilt reference grader to ship as `bin/raft-lab-reference` (default: this
    /// grader's own executable). With it students run their key/value layer on the reference
    /// Raft, and their Raft under the reference key/value layer, without the reference's
    /// sources (each Raft peer is a process of its own; see the handout's README).
    #[arg(long, value_name = "PATH", conflicts_with = "no_reference_bin")]
    pub reference_bin: Option<PathBuf>,
    /// Ship no prebuilt reference grader.
    #[arg(long)]
    pub no_reference_bin: bool,
}

/// Where the handout keeps the prebuilt reference grader.
pub const REFERENCE_BIN: &str = "bin/raft-lab-reference";

/// The workspace this grader was built from.
pub fn default_source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Runs `handout` with `args` (`args[0]` is "handout"); returns the exit status.
pub fn main_with_args(args: &[String], out: &mut dyn Write) -> i32 {
    let cli = match HandoutCli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    let source = cli.from.unwrap_or_else(default_source);
    let reference = if cli.no_reference_bin {
        None
    } else {
        match cli.reference_bin.map_or_else(std::env::current_exe, Ok) {
            Ok(path) => Some(path),
            Err(e) => {
                eprintln!(
                    "error: cannot find this grader's executable to ship as {REFERENCE_BIN} \
                     ({e}); pass --reference-bin PATH or --no-reference-bin"
                );
                return 1;
            }
        }
    };
    match export(&source, &cli.dir).and_then(|mut files| {
        if let Some(bin) = &reference {
            files.push(ship_reference(bin, &cli.dir)?);
        }
        Ok(files)
    }) {
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
        w.copy_tree_if_present(&format!("{krate}/benches"))?;
        w.copy_tree_if_present(&format!("{krate}/examples"))?;
    }
    w.copy_file_to(&format!("{HANDOUT_GRADER}/Cargo.toml"), "grader/Cargo.toml")?;
    w.copy_tree_to(&format!("{HANDOUT_GRADER}/src"), "grader/src")?;
    for f in TOP_FILES {
        w.copy_file(f)?;
    }
    w.copy_file_to(STUDENT_README, "README.md")?;
    w.write_manifest("Cargo.toml", workspace_manifest)?;
    Ok(w.written)
}

/// Copies the prebuilt reference grader `bin` into the handout `dest` as [`REFERENCE_BIN`]
/// (a copy keeps its permission to run); the path written, relative to `dest`.
pub fn ship_reference(bin: &Path, dest: &Path) -> Result<PathBuf, HandoutError> {
    let to = dest.join(REFERENCE_BIN);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| HandoutError::Io { path, source }
    };
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).map_err(io(parent))?;
    }
    fs::copy(bin, &to).map_err(io(bin))?;
    Ok(PathBuf::from(REFERENCE_BIN))
}

fn check_source(source: &Path) -> Result<(), HandoutError> {
    for what in [
        "Cargo.toml",
        "lab-api/Cargo.toml",
        "raft-student/Cargo.toml",
        "handout/grader/Cargo.toml",
        STUDENT_README,
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
        self.copy_file_to(rel, rel)
    }

    fn copy_file_to(&mut self, rel: &str, to: &str) -> Result<(), HandoutError> {
        let contents = self.read(rel)?;
        self.write(to, &contents)
    }

    fn copy_tree_if_present(&mut self, rel: &str) -> Result<(), HandoutError> {
        if self.source.join(rel).is_dir() {
            self.copy_tree(rel)?;
        }
        Ok(())
    }

    fn copy_tree(&mut self, rel: &str) -> Result<(), HandoutError> {
        self.copy_tree_to(rel, rel)
    }

    /// Copies every file below `rel` to the same place below `to`, in name order (so the
    /// file list is deterministic).
    fn copy_tree_to(&mut self, rel: &str, to: &str) -> Result<(), HandoutError> {
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
            let (child, target) = (format!("{rel}/{name}"), format!("{to}/{name}"));
            if self.source.join(&child).is_dir() {
                self.copy_tree_to(&child, &target)?;
            } else {
                self.copy_file_to(&child, &target)?;
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

/// The workspace's crates without the reference Raft: its member list, and its dependency
/// table without the crates left out. The only edit of any manifest.
fn workspace_manifest(doc: &mut DocumentMut) -> Result<(), String> {
    let ws = table(doc, "workspace")?;
    let mut members = toml_edit::Array::new();
    for m in WHOLE_CRATES.iter().chain(&["grader"]) {
        members.push(*m);
    }
    ws.insert("members", value(members));
    ws.remove("exclude");
    let deps = ws
        .get_mut("dependencies")
        .and_then(Item::as_table_mut)
        .ok_or("no [workspace.dependencies] table")?;
    for krate in REFERENCE_CRATES {
        deps.remove(krate);
    }
    Ok(())
}
