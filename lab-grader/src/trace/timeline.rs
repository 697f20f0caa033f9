//! The timeline view: one self-contained HTML file (`timeline.html`) that shows a test run's
//! event record (`events.jsonl`, schema version 1) as lanes in time, one per peer.
//!
//! The page needs no network: its CSS and JavaScript are inlined from the files under
//! `timeline/`, the events are embedded as one JSON array in a
//! `<script type="application/json" id="events">` element, and the browser draws them on a
//! `<canvas>` (role and term bands, crashes and disconnections, RPC arrows, applies, commits,
//! the peer's log lines, the tester's actions and checks). On open it zooms to the last two
//! seconds before the failure (violation, panic, failed check or failure message).
//!
//! Rust's part is small and deterministic: it checks each line is a JSON object (a truncated
//! last line, from a killed run, is kept as an `unparsed` event rather than breaking the
//! page), joins the lines into an array, and escapes every `<` so no string in the data can
//! close the script element.
//!
//! ```
//! let jsonl = r#"{"t":0,"kind":"test","peer":null,"name":"initial_election_2a","peers":3}
//! {"t":5,"kind":"log","peer":1,"level":"INFO","target":"raft","message":"</script>"}"#;
//! let html = grader::trace::timeline::render(jsonl);
//! assert!(html.contains("initial_election_2a"));
//! assert!(!html.contains("\"</script>\""));
//! ```

/// The page's skeleton; `/*@CSS@*/`, `/*@JS@*/` and `@EVENTS@` are filled in by [`render`].
const PAGE: &str = include_str!("timeline.html");
/// The page's style sheet.
const CSS: &str = include_str!("timeline/timeline.css");
/// The page's script: reads the embedded events, lays out the lanes and draws them.
const JS: &str = include_str!("timeline/timeline.js");

/// Nesting deeper than this in one event line is treated as malformed (no event nests more
/// than two levels; the bound keeps the checker's recursion small).
const MAX_DEPTH: usize = 32;

/// Renders an event record (JSON lines, `events.jsonl`) as one self-contained HTML page.
///
/// Blank lines are skipped; a line that is not a JSON object becomes
/// `{"t":null,"kind":"unparsed","peer":null,"line":"..."}`, which the page lists as a warning.
/// The output depends only on the input.
pub fn render(events_jsonl: &str) -> String {
    let events = events_array(events_jsonl);
    // Fill the data last, so a marker that happens to occur in the data is never replaced.
    let page = PAGE
        .replacen("/*@CSS@*/", CSS, 1)
        .replacen("/*@JS@*/", JS, 1);
    page.replacen("@EVENTS@", &events, 1)
}

/// The events as one JSON array, one event a line, with every `<` written as `\u003c`.
///
/// In valid JSON a `<` can only occur inside a string, where `\u003c` means the same, so the
/// browser's `JSON.parse` sees the original text while the HTML parser never sees `</script`
/// or `<!--` in the data.
fn events_array(events_jsonl: &str) -> String {
    let mut out = String::with_capacity(events_jsonl.len() + 64);
    out.push('[');
    let mut first = true;
    for line in events_jsonl
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        out.push_str(if first { "\n" } else { ",\n" });
        first = false;
        if is_json_object(line) {
            push_escaped_lt(&mut out, line);
        } else {
            out.push_str(r#"{"t":null,"kind":"unparsed","peer":null,"line":"#);
            let quoted = json_string(line);
            push_escaped_lt(&mut out, &quoted);
            out.push('}');
        }
    }
    out.push_str("\n]");
    out
}

/// Appends `s` to `out` with each `<` replaced by the JSON escape `\u003c`.
fn push_escaped_lt(out: &mut String, s: &str) {
    let mut rest = s;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        out.push_str("\\u003c");
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
}

/// `s` as a JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `line` is exactly one JSON object (RFC 8259), surrounding whitespace allowed.
fn is_json_object(line: &str) -> bool {
    let mut p = Checker {
        s: line.as_bytes(),
        i: 0,
    };
    p.ws();
    p.peek() == Some(b'{') && p.value(0) && {
        p.ws();
        p.i == p.s.len()
    }
}

/// A JSON syntax checker over one line: each method consumes one production and says
/// whether it was well formed.
struct Checker<'a> {
    s: &'a [u8],
    i: usize,
}

impl Checker<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.i += usize::from(hit);
        hit
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        self.ws();
        match self.peek() {
            Some(b'{') => self.sequence(b'}', depth, true),
            Some(b'[') => self.sequence(b']', depth, false),
            Some(b'"') => self.string(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => false,
        }
    }

    /// An object (`keyed`) or an array, from its opening bracket to `close`.
    fn sequence(&mut self, close: u8, depth: usize, keyed: bool) -> bool {
        self.i += 1;
        self.ws();
        if self.eat(close) {
            return true;
        }
        loop {
            if keyed {
                self.ws();
                if !(self.peek() == Some(b'"') && self.string()) {
                    return false;
                }
                self.ws();
                if !self.eat(b':') {
                    return false;
                }
            }
            if !self.value(depth + 1) {
                return false;
            }
            self.ws();
            if self.eat(close) {
                return true;
            }
            if !self.eat(b',') {
                return false;
            }
        }
    }

    fn string(&mut self) -> bool {
        self.i += 1;
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'"' => return true,
                b'\\' => match self.peek() {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 1,
                    Some(b'u') => {
                        self.i += 1;
                        for _ in 0..4 {
                            if !self.peek().is_some_and(|h| h.is_ascii_hexdigit()) {
                                return false;
                            }
                            self.i += 1;
                        }
                    }
                    _ => return false,
                },
                0..=0x1f => return false,
                _ => {}
            }
        }
        false
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        let hit = self.s[self.i..].starts_with(word);
        self.i += if hit { word.len() } else { 0 };
        hit
    }

    fn digits(&mut self) -> bool {
        let start = self.i;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.i += 1;
        }
        self.i > start
    }

    fn number(&mut self) -> bool {
        self.eat(b'-');
        if !self.eat(b'0') && !self.digits() {
            return false;
        }
        if self.eat(b'.') && !self.digits() {
            return false;
        }
        if self.eat(b'e') || self.eat(b'E') {
            let _sign = self.eat(b'+') || self.eat(b'-');
            if !self.digits() {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checker_accepts_objects_and_rejects_the_rest() {
        for ok in [
            r#"{}"#,
            r#" {"t":0,"a":[1,-2.5e3,true,false,null,{"b":"\u00e9\n"}]} "#,
            r#"{"s":"</script>"}"#,
        ] {
            assert!(is_json_object(ok), "{ok}");
        }
        for bad in [
            r#"[]"#,
            r#"{"t":0"#,
            r#"{"t":01}"#,
            r#"{"t":1.}"#,
            r#"{"t":"a}"#,
            r#"{t:1}"#,
            r#"{"t":1,}"#,
            r#"{"t":1} x"#,
            r#"{"s":"\x"}"#,
        ] {
            assert!(!is_json_object(bad), "{bad}");
        }
    }

    #[test]
    fn bad_lines_are_kept_as_unparsed_events_and_lt_is_escaped() {
        let arr = events_array("{\"t\":1,\"m\":\"a</b\"}\n\n{\"t\":2,\"m\":\"cut <\n");
        assert_eq!(
            arr,
            "[\n{\"t\":1,\"m\":\"a\\u003c/b\"},\n{\"t\":null,\"kind\":\"unparsed\",\"peer\":null,\
             \"line\":\"{\\\"t\\\":2,\\\"m\\\":\\\"cut \\u003c\"}\n]"
        );
    }
}
