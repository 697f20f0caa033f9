//! The bundle a test run leaves (every failing run, and every run with `--trace`):
//! `<out>/<test>-seed<S>[-run<k>]/` with `report.txt`, `replay.txt`, `events.jsonl`,
//! `choices.json` (the run's recorded choices, in virtual time), `backtrace.txt` (after a
//! panic) and `timeline.html`. Written on the test's thread after the
//! run, so it never slows the test itself.

use std::io;
use std::path::{Path, PathBuf};

/// Where bundles go by default: `$CARGO_TARGET_DIR/grader`, else `target/grader` next to the
/// workspace's Cargo.toml (searched from the current directory up), else `./target/grader`.
pub(crate) fn default_root() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir).join("grader");
    }
    if let Ok(cwd) = std::env::current_dir() {
        for dir in cwd.ancestors() {
            let manifest = dir.join("Cargo.toml");
            let is_workspace = std::fs::read_to_string(&manifest)
                .is_ok_and(|text| text.lines().any(|l| l.trim() == "[workspace]"));
            if is_workspace {
                let target = dir.join("target").join("grader");
                return target
                    .strip_prefix(&cwd)
                    .map_or(target.clone(), Path::to_path_buf);
            }
        }
    }
    PathBuf::from("target").join("grader")
}

/// The bundle's directory name: `<test>-seed<S>`, with `-run<k>` in a `--runs` stress run.
pub(crate) fn dir_name(name: &str, run_seed: u64, run: Option<u32>) -> String {
    match run {
        Some(k) => format!("{name}-seed{run_seed}-run{k}"),
        None => format!("{name}-seed{run_seed}"),
    }
}

/// The bundle's files.
pub(crate) struct Files<'a> {
    pub(crate) report: &'a str,
    pub(crate) replay: &'a str,
    pub(crate) events: &'a str,
    pub(crate) backtrace: Option<&'a str>,
    /// The choices file's text (virtual time only).
    pub(crate) choices: Option<&'a str>,
}

/// The timeline page of an events file.
fn timeline_html(events: &str) -> Option<String> {
    Some(super::timeline::render(events))
}

/// Writes the bundle in `dir` (replacing an earlier bundle there).
pub(crate) fn write(dir: &Path, files: &Files<'_>) -> io::Result<()> {
    if dir.join("events.jsonl").is_file() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("report.txt"), files.report)?;
    std::fs::write(dir.join("replay.txt"), files.replay)?;
    std::fs::write(dir.join("events.jsonl"), files.events)?;
    if let Some(c) = files.choices {
        std::fs::write(dir.join("choices.json"), c)?;
    }
    if let Some(bt) = files.backtrace {
        std::fs::write(dir.join("backtrace.txt"), bt)?;
    }
    if let Some(html) = timeline_html(files.events) {
        std::fs::write(dir.join("timeline.html"), html)?;
    }
    Ok(())
}
