//! The bundles a run keeps: at most `--keep-bundles` failing runs write one (none with 0),
//! and the summary counts the others.

use std::path::Path;

use grader::suites::{TestCase, suite};
use grader::{Options, Summary};

/// The student skeleton's `initial_election_2a` (it fails: no leader), `runs` times.
fn stress(runs: u32, keep_bundles: Option<usize>, out: &Path) -> (Summary, String) {
    let cases: Vec<TestCase> = suite::<raft_student::Raft>()
        .into_iter()
        .filter(|c| c.name == "initial_election_2a")
        .collect();
    let opts = Options {
        seed: 1,
        runs,
        jobs: 2,
        keep_bundles,
        out: Some(out.to_path_buf()),
        ..Options::default()
    };
    let mut report = Vec::new();
    let summary = grader::runner::run_cases(&cases, &opts, &mut report).expect("report written");
    (summary, String::from_utf8_lossy(&report).into_owned())
}

fn bundles_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| {
        d.filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.path().join("events.jsonl").is_file())
        })
        .count()
    })
}

#[test]
fn a_stress_run_keeps_at_most_keep_bundles_and_counts_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let (summary, report) = stress(4, Some(1), dir.path());
    assert_eq!(summary.failed, 4, "{report}");
    assert_eq!(bundles_in(dir.path()), 1, "{report}");
    let kept: Vec<bool> = summary.runs.iter().map(|r| r.bundle.is_some()).collect();
    assert_eq!(kept.iter().filter(|k| **k).count(), 1, "{kept:?}");
    assert_eq!(summary.runs.iter().filter(|r| r.bundle_not_kept).count(), 3);
    assert!(
        report.contains("note: 3 failing run(s) kept no bundle (1 did;"),
        "{report}"
    );

    // None at all with 0; every one by default in so short a run.
    let none = tempfile::tempdir().unwrap();
    let (summary, report) = stress(3, Some(0), none.path());
    assert_eq!(bundles_in(none.path()), 0, "{report}");
    assert!(
        summary
            .runs
            .iter()
            .all(|r| r.bundle.is_none() && r.bundle_not_kept)
    );
    assert!(
        report.contains("note: 3 failing run(s) kept no bundle (0 did;"),
        "{report}"
    );
    let all = tempfile::tempdir().unwrap();
    let (_, report) = stress(3, None, all.path());
    assert_eq!(bundles_in(all.path()), 3, "{report}");
    assert!(!report.contains("kept no bundle"), "{report}");
}
