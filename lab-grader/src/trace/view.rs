//! The terminal view of an events file: a time column, then one column per peer, each event
//! in its peer's column and test-wide events across all of them. `grader view BUNDLE` prints
//! a bundle this way (with filters by peer, kind and time); `--log` prints the same rows live.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::Parser;
use serde_json::Value;

/// What to show.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only these peers' columns (empty: every peer). Test-wide events are always shown.
    pub peers: Vec<usize>,
    /// Only these kinds (`rpc`, `apply`, `state`, `log`, ...; empty: every kind).
    pub kinds: Vec<String>,
    /// From this many µs on.
    pub from_us: Option<u64>,
    /// Up to this many µs.
    pub to_us: Option<u64>,
    /// Every RPC stage (dispatched, detached, delivered too), not only sent, handled and the
    /// losses.
    pub all_stages: bool,
    /// Only the peers' lines (`log` events) of these topics (empty: all of them). A line's
    /// topics are its `topic` field, its target, the target's last `::` part, and `print`
    /// for a printed line.
    pub topics: Vec<String>,
}

impl Filter {
    /// Whether a `log` event passes the topic filter.
    pub fn topic_matches(&self, v: &Value) -> bool {
        if self.topics.is_empty() {
            return true;
        }
        let target = s(v, "target");
        let short = target.rsplit("::").next().unwrap_or(target);
        let topic = v.get("topic").and_then(Value::as_str);
        self.topics
            .iter()
            .any(|want| topic == Some(want.as_str()) || target == want || short == want)
    }
}

/// Column layout: which peers, how wide, in colour or not.
#[derive(Clone, Debug)]
pub struct Layout {
    columns: Vec<usize>,
    width: usize,
    color: bool,
    filter: Filter,
}

const TIME_WIDTH: usize = 10;
const SEP: &str = " │ ";
const MAX_WRAP: usize = 4;

impl Layout {
    /// A layout for `peers` peers (or the filter's) fitted to `total` columns of text.
    pub fn new(peers: usize, filter: Filter, total: usize, color: bool) -> Layout {
        let columns: Vec<usize> = if filter.peers.is_empty() {
            (0..peers).collect()
        } else {
            filter.peers.clone()
        };
        let n = columns.len().max(1);
        let width = (total.saturating_sub(TIME_WIDTH) / n)
            .saturating_sub(SEP.chars().count())
            .max(16);
        Layout {
            columns,
            width,
            color,
            filter,
        }
    }

    /// The header row and its rule.
    pub fn header(&self) -> String {
        let mut s = format!("{:>w$}", "time (s)", w = TIME_WIDTH);
        for p in &self.columns {
            s.push_str(SEP);
            s.push_str(&pad(&format!("peer {p}"), self.width));
        }
        let rule: String = "─".repeat(s.chars().count());
        format!("{}\n{rule}\n", s.trim_end())
    }

    /// The rows of one event (a JSON object of the events file), or `None` if filtered out.
    pub fn rows(&self, v: &Value) -> Option<String> {
        let kind = v.get("kind")?.as_str()?;
        if kind == "test" {
            return None;
        }
        if !self.filter.kinds.is_empty() && !self.filter.kinds.iter().any(|k| k == kind) {
            return None;
        }
        let t = v.get("t").and_then(Value::as_u64).unwrap_or(0);
        if self.filter.from_us.is_some_and(|f| t < f) || self.filter.to_us.is_some_and(|to| t > to)
        {
            return None;
        }
        if kind == "log" && !self.filter.topic_matches(v) {
            return None;
        }
        let (text, style) = cell(kind, v, self.filter.all_stages)?;
        let lane = v.get("peer").and_then(Value::as_u64);
        let time = format!("{:>w$.3}", t as f64 / 1e6, w = TIME_WIDTH);
        let mut out = String::new();
        match lane {
            Some(p) => {
                let col = self.columns.iter().position(|&c| c as u64 == p)?;
                for (k, piece) in wrap(&text, self.width).iter().enumerate() {
                    let stamp = if k == 0 { time.as_str() } else { "" };
                    let mut line = format!("{stamp:>w$}", w = TIME_WIDTH);
                    for _ in 0..col {
                        line.push_str(SEP);
                        line.push_str(&" ".repeat(self.width));
                    }
                    line.push_str(SEP);
                    line.push_str(&self.paint(piece, style));
                    out.push_str(line.trim_end());
                    out.push('\n');
                }
            }
            None => {
                let span = (self.width + SEP.chars().count()) * self.columns.len().max(1);
                let span = span.saturating_sub(SEP.chars().count());
                for (k, piece) in wrap(&text, span).iter().enumerate() {
                    let stamp = if k == 0 { time.as_str() } else { "" };
                    let line = format!(
                        "{stamp:>w$}{SEP}{}",
                        self.paint(piece, style),
                        w = TIME_WIDTH
                    );
                    out.push_str(line.trim_end());
                    out.push('\n');
                }
            }
        }
        Some(out)
    }

    fn paint(&self, text: &str, style: Style) -> String {
        if !self.color {
            return text.to_string();
        }
        let code = match style {
            Style::Plain => return text.to_string(),
            Style::Dim => "2",
            Style::Rpc => "36",
            Style::Lost => "33",
            Style::State => "1;33",
            Style::Apply => "32",
            Style::Harness => "1;35",
            Style::Good => "32",
            Style::Bad => "1;31",
            Style::Log => "34",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    Plain,
    Dim,
    Rpc,
    Lost,
    State,
    Apply,
    Harness,
    Good,
    Bad,
    Log,
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn n(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::Number(x)) => x.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => "-".to_string(),
    }
}

/// The text of an event in its cell, and its style; `None` for an RPC stage not shown.
fn cell(kind: &str, v: &Value, all_stages: bool) -> Option<(String, Style)> {
    let one_line = |x: &str| x.lines().collect::<Vec<_>>().join(" ⏎ ");
    Some(match kind {
        "harness" => {
            let mut t = format!("● {}", s(v, "action"));
            if let Some(b) = v.get("value").and_then(Value::as_bool) {
                t.push_str(&format!("={b}"));
            }
            (t, Style::Harness)
        }
        "start" => match v.get("index").and_then(Value::as_u64) {
            Some(i) => (
                format!("start({}) → index {i} term {}", s(v, "cmd"), n(v, "term")),
                Style::Plain,
            ),
            None => (format!("start({}) refused", s(v, "cmd")), Style::Dim),
        },
        "check" => {
            let ok = v.get("ok").and_then(Value::as_bool).unwrap_or(false);
            let mark = if ok { "✓" } else { "✗" };
            let style = if ok { Style::Good } else { Style::Bad };
            let detail = one_line(s(v, "detail"));
            (format!("{mark} {}: {detail}", s(v, "check")), style)
        }
        "rpc" => return rpc_cell(v, all_stages),
        "apply" => match v.get("cmd").and_then(Value::as_str) {
            Some(c) => (format!("apply {}: {c}", n(v, "index")), Style::Apply),
            None => (
                format!("apply snapshot through {}", n(v, "snapshot_index")),
                Style::Apply,
            ),
        },
        "state" => {
            let mut t = format!(
                "{} term={} vote={} commit={} last={}",
                s(v, "role"),
                n(v, "term"),
                n(v, "voted_for"),
                n(v, "commit"),
                n(v, "last_index")
            );
            if v.get("snapshot_index").and_then(Value::as_u64).unwrap_or(0) > 0 {
                t.push_str(&format!(" snap={}", n(v, "snapshot_index")));
            }
            (t, Style::State)
        }
        "violation" => (
            format!(
                "VIOLATION {} ({}): {}",
                s(v, "property"),
                s(v, "section"),
                one_line(s(v, "detail"))
            ),
            Style::Bad,
        ),
        "panic" => (
            format!(
                "PANIC at {}: {}",
                s(v, "location"),
                one_line(s(v, "message"))
            ),
            Style::Bad,
        ),
        "log" => (log_text(v), Style::Log),
        "failure" => (format!("FAIL: {}", one_line(s(v, "message"))), Style::Bad),
        "client" => {
            let arrow = if s(v, "stage") == "call" {
                "→"
            } else {
                "←"
            };
            (
                format!("client {} {arrow} {}", n(v, "client"), s(v, "text")),
                Style::Plain,
            )
        }
        "linearizability" => {
            let (mark, style) = match s(v, "verdict") {
                "linearizable" => ("✓", Style::Good),
                "not linearizable" => ("✗", Style::Bad),
                _ => ("?", Style::Dim),
            };
            (
                format!("{mark} linearizability: {}", one_line(s(v, "detail"))),
                style,
            )
        }
        other => (other.to_string(), Style::Plain),
    })
}

/// A peer's line: `LEVEL [topic] message`, or what it printed as it is.
fn log_text(v: &Value) -> String {
    let one_line = |x: &str| x.lines().collect::<Vec<_>>().join(" ⏎ ");
    let level = s(v, "level");
    let mut text = String::new();
    if level != "PRINT" {
        text.push_str(level);
        text.push(' ');
    }
    if let Some(topic) = v.get("topic").and_then(Value::as_str) {
        text.push_str(&format!("[{topic}] "));
    }
    text.push_str(&one_line(s(v, "message")));
    text
}

/// One events-file line in a few words (the cell it has in the view), e.g. for a stuck
/// test's report of what each peer did last.
pub fn describe(line: &str) -> Option<String> {
    let v: Value = serde_json::from_str(line).ok()?;
    let (text, _) = cell(s(&v, "kind"), &v, true)?;
    let t = v.get("t").and_then(Value::as_u64).unwrap_or(0);
    Some(format!("at {:.3} s: {text}", t as f64 / 1e6))
}

fn rpc_cell(v: &Value, all_stages: bool) -> Option<(String, Style)> {
    let method = s(v, "method");
    let short = method.strip_prefix("Raft.").unwrap_or(method);
    let text = v.get("text").and_then(Value::as_str);
    let bytes = v.get("bytes").and_then(Value::as_u64);
    let what = match (text, bytes) {
        (Some(t), _) => t.to_string(),
        (None, Some(b)) => format!("{short} {b}B"),
        (None, None) => short.to_string(),
    };
    let (to, from) = (n(v, "to"), n(v, "from"));
    let delay_ms = v
        .get("delay_us")
        .and_then(Value::as_u64)
        .map_or(String::new(), |d| format!(" {}ms", d / 1000));
    Some(match s(v, "stage") {
        "sent" => (format!("→{to} {what}"), Style::Rpc),
        "handled" => (format!("⇠{from} {what}"), Style::Rpc),
        "unreachable" => (format!("✗→{to} {short} unreachable{delay_ms}"), Style::Lost),
        "request_dropped" => (format!("✗→{to} {short} request lost"), Style::Lost),
        "reply_dropped" => (format!("✗←{to} {short} reply lost"), Style::Lost),
        "server_dead" => (format!("✗←{to} {short} server dead"), Style::Lost),
        "no_method" => (format!("✗→{to} {short} no such method"), Style::Bad),
        "panicked" => (
            format!("✗ {short} from {from}: handler panicked"),
            Style::Bad,
        ),
        "reordered" => (format!("←{to} {short} reply held{delay_ms}"), Style::Lost),
        stage if all_stages => (format!("{short} call {} {stage}", n(v, "call")), Style::Dim),
        _ => return None,
    })
}

fn pad(text: &str, width: usize) -> String {
    let len = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(len)))
}

/// `text` cut into pieces of at most `width` characters; past [`MAX_WRAP`] pieces the last
/// one ends with `…`. Every piece but the last is padded to `width`.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut pieces: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ') {
        let len = word.chars().count();
        let used = cur.chars().count();
        if used > 0 && used + 1 + len > width {
            pieces.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
        while cur.chars().count() > width {
            let head: String = cur.chars().take(width).collect();
            cur = cur.chars().skip(width).collect();
            pieces.push(head);
        }
    }
    if !cur.is_empty() {
        pieces.push(cur);
    }
    if pieces.is_empty() {
        pieces.push(String::new());
    }
    if pieces.len() > MAX_WRAP {
        pieces.truncate(MAX_WRAP);
        if let Some(last) = pieces.last_mut() {
            last.pop();
            last.push('…');
        }
    }
    let count = pieces.len();
    pieces
        .into_iter()
        .enumerate()
        .map(|(i, p)| if i + 1 < count { pad(&p, width) } else { p })
        .collect()
}

/// An events file that cannot be shown.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    /// A line is not a JSON object.
    #[error("line {line} of the events file is not JSON: {source}")]
    Json {
        /// 1-based.
        line: usize,
        /// Why.
        source: serde_json::Error,
    },
    /// No `test` line first.
    #[error("the events file does not start with a `test` line (is it an events.jsonl?)")]
    NoHeader,
}

/// The whole view of an events file.
pub fn render(
    jsonl: &str,
    filter: &Filter,
    total: usize,
    color: bool,
) -> Result<String, ViewError> {
    let mut values = Vec::new();
    for (i, l) in jsonl
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let v: Value = serde_json::from_str(l).map_err(|source| ViewError::Json {
            line: i + 1,
            source,
        })?;
        values.push(v);
    }
    let head = values.first().filter(|v| s(v, "kind") == "test");
    let head = head.ok_or(ViewError::NoHeader)?;
    let peers = head
        .get("peers")
        .and_then(Value::as_u64)
        .and_then(|p| usize::try_from(p).ok())
        .unwrap_or(0);
    let layout = Layout::new(peers, filter.clone(), total, color);
    let mut out = format!(
        "{} ({}), seed {}, {} peers{}\n",
        s(head, "name"),
        s(head, "title"),
        n(head, "seed"),
        peers,
        if head.get("real_time").and_then(Value::as_bool) == Some(true) {
            ", real time"
        } else {
            ", virtual time"
        }
    );
    if let Some(k) = head
        .get("truncated")
        .and_then(Value::as_u64)
        .filter(|&k| k > 0)
    {
        out.push_str(&format!(
            "(truncated: the record dropped its first {k} events to stay within its cap)\n"
        ));
    }
    out.push_str(&layout.header());
    for v in &values[1..] {
        if let Some(rows) = layout.rows(v) {
            out.push_str(&rows);
        }
    }
    Ok(out)
}

/// The view printed live, row by row, as events are recorded: every event in per-peer
/// columns (`--log`), or only the peers' own lines, one per row (`--nocapture`).
#[derive(Clone, Debug)]
pub struct Live {
    total: usize,
    color: bool,
    filter: Filter,
    layout: Layout,
    lines_only: bool,
}

impl Live {
    /// A live view of every event (that `filter` lets through), `total` characters wide.
    pub fn new(total: usize, color: bool, filter: Filter) -> Live {
        Live {
            total,
            color,
            layout: Layout::new(0, filter.clone(), total, color),
            filter,
            lines_only: false,
        }
    }

    /// A live view of the peers' own lines only: `   1.234  peer 2 │ what it printed`.
    pub fn lines(color: bool, filter: Filter) -> Live {
        Live {
            lines_only: true,
            ..Live::new(0, color, filter)
        }
    }

    /// The cluster has `n` peers: the columns, and the header to print.
    pub fn set_peers(&mut self, n: usize) -> String {
        self.layout = Layout::new(n, self.filter.clone(), self.total, self.color);
        if self.lines_only {
            return String::new();
        }
        self.layout.header()
    }

    /// The rows of one events-file line.
    pub fn row(&self, line: &str) -> Option<String> {
        let v: Value = serde_json::from_str(line).ok()?;
        if !self.lines_only {
            return self.layout.rows(&v);
        }
        if s(&v, "kind") != "log" || !self.filter.topic_matches(&v) {
            return None;
        }
        let t = v.get("t").and_then(Value::as_u64).unwrap_or(0) as f64 / 1e6;
        let who = match v.get("peer").and_then(Value::as_u64) {
            Some(p) => format!("peer {p}"),
            None => "peer ?".to_string(),
        };
        let text = log_text(&v);
        let text = if self.color && s(&v, "level") != "PRINT" {
            format!("\x1b[34m{text}\x1b[0m")
        } else {
            text
        };
        Some(format!("{t:>w$.3}  {who} │ {text}\n", w = TIME_WIDTH))
    }
}

/// The terminal's width, or 160 when it is not a terminal.
pub fn terminal_width() -> usize {
    if let Some(c) = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()) {
        return c;
    }
    console::Term::stdout()
        .size_checked()
        .map_or(160, |(_, cols)| usize::from(cols))
}

/// Whether to colour: the grader's stdout is a terminal and NO_COLOR is not set.
pub fn use_color() -> bool {
    crate::capture::stdout_is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// `grader view`: prints a failure bundle (or an events file) as per-peer columns.
#[derive(Parser, Debug)]
#[command(name = "grader view")]
pub struct ViewArgs {
    /// A bundle directory (holding events.jsonl), or an events file.
    pub bundle: PathBuf,
    /// Only this peer's column (repeat for several). Test-wide events are always shown.
    #[arg(long, value_name = "N")]
    pub peer: Vec<usize>,
    /// Only these kinds, comma-separated: harness, start, check, rpc, apply, state,
    /// violation, panic, log, failure.
    #[arg(long, value_name = "KINDS", value_delimiter = ',')]
    pub kind: Vec<String>,
    /// From this time on, in seconds (virtual seconds in virtual time).
    #[arg(long, value_name = "SECS")]
    pub from: Option<f64>,
    /// Up to this time, in seconds.
    #[arg(long, value_name = "SECS")]
    pub to: Option<f64>,
    /// Total width in characters (default: the terminal's, else 160).
    #[arg(long, value_name = "W")]
    pub width: Option<usize>,
    /// Every stage of every RPC (dispatched, detached, delivered too).
    #[arg(long)]
    pub all_stages: bool,
    /// Only the peers' lines of these topics, comma-separated: a line's topics are its
    /// `topic` field (`tracing::debug!(topic = "vote", ...)`), its target, and `print` for
    /// what a peer printed.
    #[arg(long, value_name = "TOPICS", value_delimiter = ',')]
    pub topic: Vec<String>,
}

fn secs_to_us(s: f64) -> u64 {
    (s.max(0.0) * 1e6) as u64
}

/// Runs `grader view` with `args` (the first is the program name); returns the exit status.
pub fn main_with_args(args: &[String], out: &mut dyn Write) -> i32 {
    let a = match ViewArgs::try_parse_from(args) {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    let path = if a.bundle.is_dir() {
        a.bundle.join("events.jsonl")
    } else {
        a.bundle.clone()
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", path.display());
            return 2;
        }
    };
    let filter = Filter {
        peers: a.peer,
        kinds: a.kind,
        from_us: a.from.map(secs_to_us),
        to_us: a.to.map(secs_to_us),
        all_stages: a.all_stages,
        topics: a.topic,
    };
    let total = a.width.unwrap_or_else(terminal_width);
    match render(&text, &filter, total, use_color()) {
        Ok(view) => match out.write_all(view.as_bytes()) {
            Ok(()) => 0,
            // A closed pipe (`| head`) is not an error.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => 0,
            Err(e) => {
                eprintln!("error: {e}");
                1
            }
        },
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            2
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENTS: &str = concat!(
        r#"{"t":0,"kind":"test","peer":null,"name":"backup_2b","go_name":"TestBackup2B","title":"Test (2B): backup","seed":42,"test_seed":7,"peers":3,"real_time":false,"schema":1,"truncated":0}"#,
        "\n",
        r#"{"t":0,"kind":"harness","peer":1,"action":"disconnect","value":null}"#,
        "\n",
        r#"{"t":310000,"kind":"rpc","peer":0,"call":1,"from":0,"to":2,"method":"Raft.RequestVote","stage":"sent","bytes":4,"text":"RV term=1 cand=0 last=(0,0)","delay_us":null}"#,
        "\n",
        r#"{"t":310000,"kind":"rpc","peer":2,"call":1,"from":0,"to":2,"method":"Raft.RequestVote","stage":"dispatched","bytes":null,"text":null,"delay_us":null}"#,
        "\n",
        r#"{"t":310000,"kind":"rpc","peer":2,"call":1,"from":0,"to":2,"method":"Raft.RequestVote","stage":"handled","bytes":2,"text":"RV reply term=1 granted=true","delay_us":null}"#,
        "\n",
        r#"{"t":311000,"kind":"rpc","peer":0,"call":2,"from":0,"to":1,"method":"Raft.RequestVote","stage":"unreachable","bytes":null,"text":null,"delay_us":20000}"#,
        "\n",
        r#"{"t":312000,"kind":"state","peer":0,"role":"leader","term":1,"voted_for":0,"commit":0,"last_index":0,"snapshot_index":0}"#,
        "\n",
        r#"{"t":900000,"kind":"log","peer":2,"level":"INFO","target":"raft_student::raft","message":"a long line that does not fit in one column and wraps onto the next rows"}"#,
        "\n",
        r#"{"t":950000,"kind":"check","peer":null,"check":"check_one_leader","ok":true,"detail":"leader 0"}"#,
        "\n",
        r#"{"t":2000000,"kind":"failure","peer":null,"message":"one(101) failed to reach agreement"}"#,
        "\n",
    );

    #[test]
    fn columns_per_peer_with_test_wide_events_across() {
        let view = render(EVENTS, &Filter::default(), 100, false).unwrap();
        insta::assert_snapshot!(view);
    }

    #[test]
    fn filters_by_peer_kind_and_time() {
        let only_2 = Filter {
            peers: vec![2],
            ..Filter::default()
        };
        insta::assert_snapshot!("peer_2", render(EVENTS, &only_2, 70, false).unwrap());
        let rpcs_early = Filter {
            kinds: vec!["rpc".into()],
            to_us: Some(310_500),
            all_stages: true,
            ..Filter::default()
        };
        insta::assert_snapshot!(
            "rpcs_early",
            render(EVENTS, &rpcs_early, 100, false).unwrap()
        );
    }

    #[test]
    fn colour_only_when_asked_and_bad_input_is_an_error() {
        let plain = render(EVENTS, &Filter::default(), 100, false).unwrap();
        assert!(!plain.contains('\x1b'));
        let color = render(EVENTS, &Filter::default(), 100, true).unwrap();
        assert!(color.contains("\x1b[1;31mFAIL"));
        assert!(matches!(
            render("{}\n", &Filter::default(), 80, false),
            Err(ViewError::NoHeader)
        ));
        assert!(matches!(
            render("nope\n", &Filter::default(), 80, false),
            Err(ViewError::Json { line: 1, .. })
        ));
    }

    #[test]
    fn topics_pick_the_peers_lines_and_the_lines_view_shows_only_them() {
        let head = r#"{"t":0,"kind":"test","peer":null,"name":"x","go_name":"X","title":"","seed":1,"test_seed":1,"peers":2,"real_time":false,"schema":1,"truncated":0}"#;
        let vote = r#"{"t":1000,"kind":"log","peer":0,"level":"DEBUG","target":"raft_student::raft","topic":"vote","message":"timeout"}"#;
        let printed = r#"{"t":2000,"kind":"log","peer":1,"level":"PRINT","target":"print","message":"hello"}"#;
        let by_target = r#"{"t":3000,"kind":"log","peer":1,"level":"INFO","target":"raft_student::raft","message":"x"}"#;
        let apply = r#"{"t":4000,"kind":"apply","peer":1,"index":1,"cmd":"101"}"#;
        let events = [head, vote, printed, by_target, apply].join("\n");
        let only = |topics: &[&str]| Filter {
            topics: topics.iter().map(|t| t.to_string()).collect(),
            ..Filter::default()
        };
        let v = render(&events, &only(&["vote"]), 100, false).unwrap();
        assert!(v.contains("DEBUG [vote] timeout") && !v.contains("hello") && !v.contains(" x"));
        assert!(
            v.contains("apply 1: 101"),
            "other kinds are not topics: {v}"
        );
        let v = render(&events, &only(&["print", "raft"]), 100, false).unwrap();
        assert!(v.contains("hello") && v.contains("INFO x") && v.contains("DEBUG [vote]"));
        let live = Live::lines(false, only(&["print"]));
        assert_eq!(live.row(vote), None);
        assert_eq!(live.row(apply), None);
        assert_eq!(
            live.row(printed).as_deref(),
            Some("     0.002  peer 1 │ hello\n")
        );
    }

    #[test]
    fn live_rows_follow_the_header() {
        let mut live = Live::new(80, false, Filter::default());
        let header = live.set_peers(2);
        assert!(header.contains("peer 0") && header.contains("peer 1"));
        let row = live
            .row(r#"{"t":1000,"kind":"apply","peer":1,"index":1,"cmd":"101"}"#)
            .unwrap();
        assert!(row.contains("apply 1: 101"), "{row}");
    }
}
