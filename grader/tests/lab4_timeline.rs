//! A real Lab 4 failure explains itself: its bundle holds the client history (as `client`
//! events) and the checker's verdict with the operations it names, and the timeline page
//! draws one lane per client, the failing operation marked, above the Raft peers' lanes.
//! The browser part needs `chromium` (installed by `.ci/run`); without it, it is skipped with
//! a notice (and fails in CI, where `CI` is set).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use grader::Options;
use grader::report::Outcome;
use grader::runner::run_cases;
use kv_ref::mistake::{self, WithMistake};
use raft_rpc::RaftPeer;

/// Runs `snapshot_recover_4c` with a snapshot that loses the versions (seed 1), which the
/// linearizability check catches; returns the bundle's directory.
fn failing_bundle(out: &Path) -> std::path::PathBuf {
    let tests = kv_grader::suites::kv_tests::<
        RaftPeer,
        WithMistake<{ mistake::SNAPSHOT_WITHOUT_VERSIONS }>,
    >();
    let case = *tests
        .iter()
        .find(|c| c.name == "snapshot_recover_4c")
        .expect("the test");
    let opts = Options {
        seed: 1,
        out: Some(out.to_path_buf()),
        ..Options::default()
    };
    let summary = run_cases(&[case], &opts, &mut std::io::sink()).expect("run");
    let run = &summary.runs[0];
    let Outcome::Failed { message, .. } = &run.outcome else {
        panic!("the mistake was not caught");
    };
    assert!(
        message.starts_with("history is not linearizable\nkey 'k': "),
        "{message}"
    );
    assert!(message.contains("<- cannot be placed"), "{message}");
    assert!(
        message.contains("cannot come next: the model allows"),
        "{message}"
    );
    assert!(message.contains("minimal failing sub-history"), "{message}");
    run.bundle.clone().expect("a bundle")
}

#[test]
fn a_failure_bundle_holds_the_history_and_the_page_draws_client_lanes() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let bundle = failing_bundle(tmp.path());
    let events = std::fs::read_to_string(bundle.join("events.jsonl")).expect("events");
    let mut returns = 0;
    let mut failing = None;
    for line in events.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        match v["kind"].as_str() {
            Some("client") if v["stage"] == "return" => {
                returns += 1;
                assert!(
                    v["op"]["id"].is_u64() && v["op"]["err"].is_string(),
                    "{line}"
                );
            }
            Some("linearizability") if v["verdict"] == "not linearizable" => {
                failing = v["ops"].as_array().map(Vec::len);
            }
            _ => {}
        }
    }
    assert!(returns > 100, "{returns} operations in the history");
    assert!(
        failing.is_some_and(|n| n >= 1),
        "the verdict names the failing operations"
    );
    let report = std::fs::read_to_string(bundle.join("report.txt")).expect("report");
    assert!(report.contains("minimal failing sub-history"), "{report}");

    let Some(bin) = chromium() else { return };
    let dom = dump_dom(bin, tmp.path(), &bundle.join("timeline.html"));
    let attr = |name: &str| -> String {
        let key = format!("data-{name}=\"");
        let at = dom
            .find(&key)
            .unwrap_or_else(|| panic!("no {key} in the page"));
        let rest = &dom[at + key.len()..];
        rest[..rest.find('"').expect("attribute end")].to_string()
    };
    assert_eq!(attr("ready"), "1");
    assert!(
        dom.contains("<pre id=\"errors\" hidden=\"\"></pre>"),
        "script errors"
    );
    assert_eq!(attr("highlight"), "linearizability");
    assert!(attr("clients").parse::<u32>().expect("a number") >= 1);
    assert!(attr("failing-ops").parse::<u32>().expect("a number") >= 1);
    assert_eq!(attr("lanes"), "5");
}

fn chromium() -> Option<&'static str> {
    let found = Command::new("chromium")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return Some("chromium");
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "chromium is not installed; CI must install it (see .ci/run)"
    );
    println!("NOTICE: chromium is not installed: skipping the browser check");
    None
}

fn dump_dom(bin: &str, dir: &Path, page: &Path) -> String {
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .args(["--window-size=1400,900", "--dump-dom"])
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout).expect("output"));
    // Counted sleeps, not a clock: the wall clock is off limits in this workspace.
    let mut waited = Duration::ZERO;
    while child.try_wait().expect("chromium's status").is_none() {
        assert!(
            waited < Duration::from_secs(120),
            "chromium did not finish in 120 s"
        );
        std::thread::sleep(Duration::from_millis(50));
        waited += Duration::from_millis(50);
    }
    reader.join().expect("reader thread")
}
