//! The timeline page (`grader::trace::timeline::render`): what the HTML holds (unit level),
//! and what a person sees when Chromium opens it (browser level: lanes drawn, the failure
//! highlighted, no script errors, and the load time of a 120 s record with 15 000 RPCs).
//!
//! The browser tests need `chromium` (Debian package `chromium`; `.ci/run` installs it). Without
//! it they fail when `CI=true` and print a notice and pass otherwise. Set
//! `TIMELINE_SCREENSHOTS=DIR` to also save the pages and their screenshots (1400x900) into DIR.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use grader::trace::timeline::render;

/// A seed above 2^53, which JavaScript numbers cannot hold: the page must show it exactly.
const BIG_SEED: &str = "12345678901234567890";

/// An event record under construction: JSON lines, each with `t`, `kind` and `peer`.
#[derive(Default)]
struct Record {
    lines: Vec<(u64, usize, String)>,
}

/// One stage of one RPC, for [`Record::rpc`].
struct Stage<'a> {
    name: &'a str,
    t: u64,
    /// The `bytes`, `text` or `delay_us` fields, already as JSON (`"bytes":12,"text":"..."`).
    fields: String,
}

/// One RPC with its stages, for [`Record::rpc`].
struct Rpc<'a> {
    call: u64,
    method: &'a str,
    from: usize,
    to: usize,
    stages: Vec<Stage<'a>>,
}

impl Record {
    /// Adds one event; `fields` are its other fields as JSON, without braces.
    fn event(&mut self, t: u64, kind: &str, peer: Option<usize>, fields: &str) {
        let peer = peer.map_or("null".to_string(), |p| p.to_string());
        let sep = if fields.is_empty() { "" } else { "," };
        let line = format!(r#"{{"t":{t},"kind":"{kind}","peer":{peer}{sep}{fields}}}"#);
        let seq = self.lines.len();
        self.lines.push((t, seq, line));
    }

    fn rpc(&mut self, rpc: Rpc<'_>) {
        for s in &rpc.stages {
            let server_side = matches!(s.name, "dispatched" | "handled" | "panicked");
            let peer = if server_side { rpc.to } else { rpc.from };
            let sep = if s.fields.is_empty() { "" } else { "," };
            let fields = format!(
                r#""call":{},"from":{},"to":{},"method":"Raft.{}","stage":"{}"{sep}{}"#,
                rpc.call, rpc.from, rpc.to, rpc.method, s.name, s.fields
            );
            self.event(s.t, "rpc", Some(peer), &fields);
        }
    }

    fn state(&mut self, t: u64, peer: usize, role: &str, term: u64, commit: u64) {
        let fields = format!(
            r#""role":"{role}","term":{term},"voted_for":null,"commit":{commit},"last_index":{commit},"snapshot_index":0"#
        );
        self.event(t, "state", Some(peer), &fields);
    }

    /// The record as JSON lines in time order (stable for events at the same time).
    fn jsonl(mut self) -> String {
        self.lines.sort_by_key(|(t, seq, _)| (*t, *seq));
        let mut out = String::new();
        for (_, _, line) in &self.lines {
            out.push_str(line);
            out.push('\n');
        }
        out
    }
}

fn header(rec: &mut Record, name: &str, title: &str, peers: usize) {
    let fields = format!(
        r#""name":"{name}","go_name":"TestX","title":"{title}","seed":{BIG_SEED},"test_seed":42,"peers":{peers},"real_time":false,"schema":1"#
    );
    rec.event(0, "test", None, &fields);
    rec.event(0, "harness", None, r#""action":"begin""#);
}

fn stage<'a>(name: &'a str, t: u64, fields: &str) -> Stage<'a> {
    Stage {
        name,
        t,
        fields: fields.to_string(),
    }
}

/// 3 peers: an election (one vote request dropped), a Start, replication with a lost reply,
/// applies, a crash, a disconnection, an unreliable network, a log line trying to close the
/// script element, then a violation and the failure message.
fn small_record() -> String {
    let mut r = Record::default();
    header(
        &mut r,
        "initial_election_2a",
        "Test (2A): initial election",
        3,
    );
    for p in 0..3 {
        r.event(0, "harness", Some(p), r#""action":"start""#);
        r.state(1_000, p, "follower", 0, 0);
    }
    r.state(300_000, 1, "candidate", 1, 0);
    let vote = r#""bytes":24,"text":"RequestVoteArgs { term: 1, candidate_id: 1 }""#;
    r.rpc(Rpc {
        call: 1,
        method: "RequestVote",
        from: 1,
        to: 0,
        stages: vec![
            stage("sent", 300_010, vote),
            stage("dispatched", 301_000, ""),
            stage(
                "handled",
                301_050,
                r#""bytes":9,"text":"RequestVoteReply { term: 1, vote_granted: true }""#,
            ),
            stage("delivered", 302_000, ""),
        ],
    });
    r.rpc(Rpc {
        call: 2,
        method: "RequestVote",
        from: 1,
        to: 2,
        stages: vec![
            stage("sent", 300_020, vote),
            stage("request_dropped", 300_900, ""),
        ],
    });
    r.state(301_000, 0, "follower", 1, 0);
    r.state(302_100, 1, "leader", 1, 0);
    r.event(
        350_000,
        "check",
        None,
        r#""check":"check_one_leader","ok":true,"detail":"leader 1""#,
    );
    r.event(
        400_000,
        "start",
        Some(1),
        r#""cmd":"101","index":1,"term":1"#,
    );
    for (call, to, lost) in [(3, 0, false), (4, 2, true)] {
        let end = if lost {
            stage("reply_dropped", 406_000, "")
        } else {
            stage("delivered", 406_000, "")
        };
        r.rpc(Rpc {
            call,
            method: "AppendEntries",
            from: 1,
            to,
            stages: vec![
                stage(
                    "sent",
                    401_000,
                    r#""bytes":60,"text":"AppendEntries { term: 1, entries: [101] }""#,
                ),
                stage("dispatched", 403_000, ""),
                stage(
                    "handled",
                    403_100,
                    r#""bytes":9,"text":"AppendEntriesReply { success: true }""#,
                ),
                end,
            ],
        });
    }
    r.state(406_100, 1, "leader", 1, 1);
    r.event(406_200, "apply", Some(1), r#""index":1,"cmd":"101""#);
    r.event(
        450_000,
        "check",
        None,
        r#""check":"one","ok":true,"detail":"one(101) at index 1""#,
    );
    let evil = r#""level":"WARN","target":"raft","message":"evil </script><script>alert(1)</script> line""#;
    r.event(500_000, "log", Some(2), evil);
    r.event(550_000, "harness", Some(2), r#""action":"disconnect""#);
    r.event(
        600_000,
        "harness",
        None,
        r#""action":"reliable","value":false"#,
    );
    r.event(650_000, "harness", Some(0), r#""action":"crash""#);
    r.event(700_000, "harness", Some(0), r#""action":"start""#);
    r.state(700_100, 2, "leader", 1, 0);
    let violation = r#""property":"Election Safety","section":"5.2","detail":"two leaders in term 1: 1 and 2","message":"election safety broken (5.2): two leaders in term 1: 1 and 2""#;
    r.event(900_000, "violation", None, violation);
    r.event(
        900_001,
        "failure",
        None,
        r#""message":"two leaders in term 1""#,
    );
    r.jsonl()
}

/// 120 s, 5 peers, 15 000 RPCs with all their stages (some lost), 400 state changes, 2000
/// log lines, applies, checks and faults; with `fail`, a violation 1 s before the end.
fn large_record(fail: bool) -> String {
    const END: u64 = 120_000_000;
    const ERA: u64 = 6_000_000;
    let mut rng = Lcg(7);
    let mut r = Record::default();
    header(
        &mut r,
        "figure_8_unreliable_2c",
        "Test (2C): Figure 8 (unreliable)",
        5,
    );
    let leader_at = |t: u64| ((t / ERA) % 5) as usize;
    let term_at = |t: u64| t / ERA + 1;
    let mut states = 0;
    for era in 0..END / ERA {
        let t0 = era * ERA;
        let leader = leader_at(t0);
        r.state(t0 + 10, leader, "candidate", era + 1, 0);
        for p in (0..5).filter(|&p| p != leader) {
            r.state(t0 + 20_000 + p as u64, p, "follower", era + 1, 0);
        }
        r.state(t0 + 50_000, leader, "leader", era + 1, 0);
        states += 6;
    }
    let mut commit = [0u64; 5];
    let n_commits = 400 - states;
    for i in 0..n_commits {
        let t = 100_000 + i * (END - 200_000) / n_commits;
        let p = (i % 5) as usize;
        commit[p] += 1 + rng.below(3);
        let role = if leader_at(t) == p && t % ERA > 50_000 {
            "leader"
        } else {
            "follower"
        };
        r.state(t, p, role, term_at(t), commit[p]);
        let fields = format!(r#""index":{},"cmd":"{}""#, commit[p], 100 + commit[p]);
        r.event(t + 30, "apply", Some(p), &fields);
    }
    for call in 0..15_000u64 {
        let t = 5_000 + call * (END - 10_000) / 15_000;
        let from = leader_at(t);
        let to = (from + 1 + (call % 4) as usize) % 5;
        r.rpc(large_rpc(&mut rng, call + 1, t, from, to, term_at(t)));
    }
    let levels = ["DEBUG", "INFO", "INFO", "TRACE", "WARN"];
    for i in 0..2000u64 {
        let t = 20_000 + i * (END - 40_000) / 2000 + rng.below(20_000);
        let (p, level) = ((rng.below(5)) as usize, levels[rng.below(5) as usize]);
        let fields = format!(
            r#""level":"{level}","target":"raft::replication","message":"S{p} term {}: match_index {} next_index {}""#,
            term_at(t),
            rng.below(100),
            rng.below(100)
        );
        r.event(t, "log", Some(p), &fields);
    }
    for k in 0..24u64 {
        let t = k * 5_000_000 + 2_500_000;
        r.event(
            t,
            "start",
            Some(leader_at(t)),
            &format!(
                r#""cmd":"{}","index":{},"term":{}"#,
                1000 + k,
                k + 1,
                term_at(t)
            ),
        );
        let detail = format!(
            r#""check":"one","ok":true,"detail":"one({}) at index {}""#,
            1000 + k,
            k + 1
        );
        r.event(t + 400_000, "check", None, &detail);
    }
    for (t, p, action) in [
        (40_000_000, 3, "crash"),
        (46_000_000, 3, "start"),
        (70_000_000, 4, "disconnect"),
        (75_000_000, 4, "connect"),
    ] {
        r.event(t, "harness", Some(p), &format!(r#""action":"{action}""#));
    }
    r.event(
        80_000_000,
        "harness",
        None,
        r#""action":"reliable","value":false"#,
    );
    r.event(
        100_000_000,
        "harness",
        None,
        r#""action":"reliable","value":true"#,
    );
    if fail {
        let v = r#""property":"Log Matching","section":"5.3","detail":"peers 1 and 3 differ at index 57 (term 19 vs 18)","message":"log matching broken (5.3)""#;
        r.event(119_000_000, "violation", None, v);
        r.event(
            119_000_001,
            "failure",
            None,
            r#""message":"log matching broken (5.3)""#,
        );
    }
    r.jsonl()
}

/// One AppendEntries with all its stages: 3% lose the request, 2% the reply.
fn large_rpc(rng: &mut Lcg, call: u64, t: u64, from: usize, to: usize, term: u64) -> Rpc<'static> {
    let (d1, d2) = (200 + rng.below(9_000), 200 + rng.below(9_000));
    let n = rng.below(4);
    let args = format!(
        r#""bytes":{},"text":"AppendEntries {{ term: {term}, leader_id: {from}, prev_log_index: {}, prev_log_term: {term}, entries: [..{n}], leader_commit: {} }}""#,
        80 + 40 * n,
        call / 300,
        call / 310
    );
    let mut stages = vec![Stage {
        name: "sent",
        t,
        fields: args,
    }];
    let fate = rng.below(100);
    if fate < 3 {
        stages.push(stage("request_dropped", t + d1, ""));
    } else {
        let reply =
            format!(r#""bytes":12,"text":"AppendEntriesReply {{ term: {term}, success: true }}""#);
        stages.push(stage("dispatched", t + d1, ""));
        stages.push(Stage {
            name: "handled",
            t: t + d1 + 40,
            fields: reply,
        });
        let last = if fate < 5 {
            "reply_dropped"
        } else {
            "delivered"
        };
        stages.push(stage(last, t + d1 + 40 + d2, ""));
    }
    Rpc {
        call,
        method: "AppendEntries",
        from,
        to,
        stages,
    }
}

/// A small deterministic generator for the large record.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

// ---- unit level --------------------------------------------------------------------------

#[test]
fn render_embeds_the_record_escapes_script_ends_and_is_self_contained() {
    let html = render(&small_record());
    let open = r#"<script type="application/json" id="events">"#;
    let start = html.find(open).expect("the events element") + open.len();
    let data = &html[start
        ..start
            + html[start..]
                .find("</script>")
                .expect("the events element ends")];
    assert!(
        data.trim_start().starts_with('[') && data.trim_end().ends_with(']'),
        "a JSON array"
    );
    for part in [
        r#""kind":"violation""#,
        r#""name":"initial_election_2a""#,
        r#""stage":"request_dropped""#,
        r#""kind":"failure""#,
    ] {
        assert!(data.contains(part), "the data holds {part}");
    }
    assert!(
        data.contains(r"evil \u003c/script>\u003cscript>alert(1)\u003c/script> line"),
        "escaped log line"
    );
    assert!(
        !html.contains("<script>alert"),
        "the log line must not become markup"
    );
    for reference in ["http://", "https://", "<link", " src=", "@import", "url("] {
        assert!(
            !html.contains(reference),
            "self-contained: found {reference:?}"
        );
    }
    assert_eq!(html, render(&small_record()), "same record, same page");
}

#[test]
fn a_truncated_last_line_is_kept_as_unparsed() {
    let mut record = small_record();
    record.push_str(r#"{"t":900002,"kind":"log","peer":1,"mess"#);
    let html = render(&record);
    assert!(html.contains(r#"{"t":null,"kind":"unparsed","peer":null,"line":"{\"t\":900002"#));
}

// ---- browser level -----------------------------------------------------------------------

/// The Chromium binary, or `None` (with a notice) when it is missing outside CI.
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
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "chromium is not installed; CI must install it (apt-get install -y chromium, see .ci/run)"
        );
    }
    eprintln!(
        "NOTICE: chromium is not installed: skipping the browser test (apt-get install -y chromium)"
    );
    None
}

/// Runs headless Chromium on `page` with `mode` (`--dump-dom` or `--screenshot=...`) and
/// returns its stdout; fails after 120 s.
fn run_chromium(bin: &str, dir: &Path, page: &Path, mode: &str) -> String {
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .args(["--window-size=1400,900", "--hide-scrollbars", mode])
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let reader =
        std::thread::spawn(move || std::io::read_to_string(stdout).expect("chromium's output"));
    // Counted sleeps, not a clock: the wall clock is off limits in this workspace.
    let mut waited = Duration::ZERO;
    while child.try_wait().expect("chromium's status").is_none() {
        if waited > Duration::from_secs(120) {
            child.kill().expect("kill chromium");
            panic!("chromium did not finish in 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
        waited += Duration::from_millis(50);
    }
    reader.join().expect("reader thread")
}

/// The value of `data-NAME` on the `#summary` element of a dumped DOM.
fn summary_attr<'a>(dom: &'a str, name: &str) -> Option<&'a str> {
    let at = dom.find(r#"id="summary""#)?;
    let tag_start = dom[..at].rfind('<')?;
    let tag = &dom[tag_start..at + dom[at..].find('>')?];
    let key = format!(r#"data-{name}=""#);
    let v = tag.find(&key)? + key.len();
    Some(&tag[v..v + tag[v..].find('"')?])
}

/// The text inside the first element with `id`.
fn element_text<'a>(dom: &'a str, id: &str) -> &'a str {
    let at = dom
        .find(&format!(r#"id="{id}""#))
        .unwrap_or_else(|| panic!("no #{id} in the DOM"));
    let start = at + dom[at..].find('>').expect("tag end") + 1;
    &dom[start..start + dom[start..].find("</").expect("element end")]
}

/// Writes the page, loads it in Chromium, checks it drew without errors, returns the DOM.
fn open_page(bin: &str, dir: &Path, name: &str, html: &str) -> String {
    let page = dir.join(format!("{name}.html"));
    std::fs::write(&page, html).expect("write the page");
    let dom = run_chromium(bin, dir, &page, "--dump-dom");
    assert_eq!(element_text(&dom, "errors"), "", "script errors on {name}");
    assert_eq!(
        summary_attr(&dom, "ready"),
        Some("1"),
        "{name} finished drawing"
    );
    if let Ok(shots) = std::env::var("TIMELINE_SCREENSHOTS") {
        let shots = PathBuf::from(shots);
        std::fs::write(shots.join(format!("{name}.html")), html).expect("keep the page");
        let png = shots.join(format!("{name}.png"));
        run_chromium(bin, dir, &page, &format!("--screenshot={}", png.display()));
        println!("screenshot: {}", png.display());
    }
    dom
}

fn load_ms(dom: &str) -> u64 {
    summary_attr(dom, "load-ms")
        .expect("data-load-ms")
        .parse()
        .expect("load time in ms")
}

#[test]
fn browser_shows_lanes_and_highlights_the_violation() {
    let Some(bin) = chromium() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let dom = open_page(bin, dir.path(), "small", &render(&small_record()));
    assert_eq!(summary_attr(&dom, "lanes"), Some("3"));
    assert_eq!(summary_attr(&dom, "highlight"), Some("violation"));
    assert_eq!(summary_attr(&dom, "rpcs"), Some("4"));
    assert!(element_text(&dom, "highlight-text").contains("two leaders in term 1: 1 and 2"));
    assert!(
        dom.contains(&format!("--test initial_election_2a --seed {BIG_SEED}")),
        "exact replay seed"
    );
    assert!(
        dom.contains("evil &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; line"),
        "log line listed as text"
    );
}

/// Drives the small page as a person would, through DOM events, and writes `key: value` lines
/// into `#interaction`: hover over the first vote request, click it, wheel, keys, drag, filters.
const INTERACTION: &str = r##"
<pre id="interaction"></pre>
<script>
(function () {
  const out = [];
  const put = (k, v) => out.push(k + ": " + v);
  try {
    const tl = window.timeline, c = document.getElementById("canvas"), box = c.getBoundingClientRect();
    const at = (x, y, more) => Object.assign({ clientX: box.left + x, clientY: box.top + y, bubbles: true, cancelable: true }, more || {});
    const key = (k) => window.dispatchEvent(new KeyboardEvent("keydown", { key: k }));
    const span = () => tl.view.t1 - tl.view.t0;
    const r = tl.model.rpcs.find((r) => r.call === 1);
    const x = (tl.xOf(r.req.ta) + tl.xOf(r.req.tb)) / 2, y = (tl.laneMid(r.req.pa) + tl.laneMid(r.req.pb)) / 2;
    c.dispatchEvent(new MouseEvent("mousemove", at(x, y)));
    put("hover", document.getElementById("details").textContent.split("\n")[0]);
    put("tip", !document.getElementById("tip").hidden);
    c.dispatchEvent(new MouseEvent("mousedown", at(x, y)));
    c.dispatchEvent(new MouseEvent("mouseup", at(x, y)));
    put("pinned", tl.view.pinned && tl.view.pinned.call);
    tl.draw();
    const before = span();
    c.dispatchEvent(new WheelEvent("wheel", at(x, y, { deltaY: -400 })));
    put("wheel zooms in", span() < before);
    key("0");
    put("whole test", tl.view.t0 <= 0 && tl.view.t1 >= tl.model.tEnd);
    key("+"); key("+");
    const t0 = tl.view.t0;
    key("ArrowRight");
    put("arrow pans", tl.view.t0 > t0);
    const t1 = tl.view.t0;
    c.dispatchEvent(new MouseEvent("mousedown", at(700, 300)));
    window.dispatchEvent(new MouseEvent("mousemove", at(500, 300)));
    window.dispatchEvent(new MouseEvent("mouseup", at(500, 300)));
    put("drag pans", tl.view.t0 > t1);
    document.querySelector("#peer-filters input").click();
    tl.draw();
    put("peer 0 hidden", !tl.show.peers[0]);
    const kinds = document.querySelectorAll("#kind-filters input");
    kinds.forEach((b) => b.click());
    tl.draw();
    kinds.forEach((b) => b.click());
    tl.draw();
    key("f");
    tl.draw();
    put("failure in view", tl.view.t0 < tl.model.highlight.t && tl.model.highlight.t < tl.view.t1);
    key("Escape");
    put("unpinned", tl.view.pinned === null);
  } catch (e) {
    put("error", e && e.stack ? e.stack : e);
  }
  document.getElementById("interaction").textContent = out.join("\n");
})();
</script>
</body>"##;

#[test]
fn browser_answers_hover_click_wheel_keys_drag_and_filters() {
    let Some(bin) = chromium() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let html = render(&small_record()).replacen("</body>", INTERACTION, 1);
    let dom = open_page(bin, dir.path(), "interaction", &html);
    let lines = element_text(&dom, "interaction");
    for expected in [
        "hover: Raft.RequestVote  call 1",
        "tip: true",
        "pinned: 1",
        "wheel zooms in: true",
        "whole test: true",
        "arrow pans: true",
        "drag pans: true",
        "peer 0 hidden: true",
        "failure in view: true",
        "unpinned: true",
    ] {
        assert!(
            lines.contains(expected),
            "expected {expected:?} in:\n{lines}"
        );
    }
}

#[test]
fn browser_loads_a_120_s_record_with_15000_rpcs_quickly() {
    let Some(bin) = chromium() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut report = String::new();
    for (name, fail, mode) in [("large", true, "arrows"), ("large-whole", false, "density")] {
        let html = render(&large_record(fail));
        let dom = open_page(bin, dir.path(), name, &html);
        assert_eq!(summary_attr(&dom, "lanes"), Some("5"));
        assert_eq!(summary_attr(&dom, "rpcs"), Some("15000"));
        assert_eq!(
            summary_attr(&dom, "mode"),
            Some(mode),
            "{name}: RPCs drawn as {mode}"
        );
        let expected = if fail { "violation" } else { "none" };
        assert_eq!(summary_attr(&dom, "highlight"), Some(expected));
        let ms = load_ms(&dom);
        let events = summary_attr(&dom, "events").expect("data-events");
        let _ = writeln!(
            report,
            "timeline {name}: {events} events, {:.1} MB of HTML, loaded and drawn in {ms} ms ({mode})",
            html.len() as f64 / 1e6
        );
        assert!(ms < 5000, "{name}: the page took {ms} ms to load and draw");
    }
    println!("{report}");
}
