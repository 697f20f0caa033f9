//! The grade as JUnit XML, the format CI systems and test reporters read: `<testsuites>`
//! (the whole grade: `tests`, `failures`, `errors`, `time`, and the score as properties), one
//! `<testsuite>` per part, one `<testcase>` per test (`name` the Go name, `classname`
//! `raft.2A`, `time` the sum of its runs' seconds). A failed test has a `<failure>` whose
//! `message` is the first line of the reason and whose text holds the whole message and the
//! replay command; a submission that could not be graded gives every test an `<error>`.
//! Every run is listed in the test's `<system-out>`.

use std::fmt::Write as _;

use super::record::{Clock, GradeRecord, Status, TestResult};

/// Escapes text for XML 1.0 content or attributes; drops the characters XML 1.0 cannot hold
/// (control characters other than tab, newline and carriage return).
pub fn escape(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&apos;"),
            '\t' | '\n' | '\r' => s.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => s.push(c),
        }
    }
    s
}

fn runs_text(t: &TestResult) -> String {
    let mut s = String::new();
    for r in &t.runs {
        let clock = match r.clock {
            Clock::Virtual => "virtual",
            Clock::Real => "real",
        };
        let _ = writeln!(
            s,
            "{clock} seed {}: {} in {:.2} s ({:.3} s CPU, {} RPCs, {} bytes)",
            r.run_seed,
            if r.passed { "passed" } else { "FAILED" },
            r.secs,
            r.cpu_secs,
            r.rpcs.map_or("-".to_string(), |n| n.to_string()),
            r.bytes.map_or("-".to_string(), |n| n.to_string()),
        );
    }
    s
}

fn testcase(s: &mut String, t: &TestResult, graded: bool) {
    let time: f64 = t.runs.iter().map(|r| r.secs).sum();
    let _ = writeln!(
        s,
        "    <testcase name=\"{}\" classname=\"raft.{}\" time=\"{time:.3}\">",
        escape(&t.go_name),
        escape(&t.part)
    );
    if !t.passed {
        let message = t.message.as_deref().unwrap_or("failed");
        let first = message
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("failed");
        let mut body = message.to_string();
        if let Some(r) = &t.replay {
            let _ = write!(body, "\nreplay: {r}");
        }
        let element = if graded { "failure" } else { "error" };
        let _ = writeln!(
            s,
            "      <{element} message=\"{}\" type=\"{}\">{}</{element}>",
            escape(first),
            if graded { "TestFailed" } else { "NotGraded" },
            escape(&body)
        );
    }
    let _ = writeln!(
        s,
        "      <system-out>{}</system-out>",
        escape(&runs_text(t))
    );
    s.push_str("    </testcase>\n");
}

/// The JUnit XML of a grade.
pub fn to_junit(record: &GradeRecord) -> String {
    let graded = record.status == Status::Graded;
    let count = |tests: &mut dyn Iterator<Item = &TestResult>| {
        let (mut n, mut failed, mut time) = (0, 0, 0.0);
        for t in tests {
            n += 1;
            failed += usize::from(!t.passed);
            time += t.runs.iter().map(|r| r.secs).sum::<f64>();
        }
        (n, failed, time)
    };
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let (n, failed, time) = count(&mut record.tests.iter());
    let (f, e) = failures_errors(graded, failed);
    let _ = writeln!(
        s,
        "<testsuites name=\"raft-lab grade\" tests=\"{n}\" failures=\"{f}\" errors=\"{e}\" time=\"{time:.3}\">"
    );
    for part in &record.parts {
        let (n, failed, time) = count(&mut record.tests.iter().filter(|t| t.part == part.part));
        let (f, e) = failures_errors(graded, failed);
        let _ = writeln!(
            s,
            "  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{f}\" errors=\"{e}\" skipped=\"0\" time=\"{time:.3}\">",
            escape(&part.part)
        );
        s.push_str("    <properties>\n");
        for (name, value) in [
            ("score", format!("{:.2}", part.score)),
            ("max_score", format!("{:.2}", part.max_score)),
            ("grade_score", format!("{:.2}", record.score)),
            ("grade_max_score", format!("{:.2}", record.max_score)),
            ("seed", record.seed.to_string()),
            ("virtual_runs", record.virtual_runs.to_string()),
            ("real_time_runs", record.real_time_runs.to_string()),
            ("status", format!("{:?}", record.status)),
            (
                "isolation",
                record
                    .isolation
                    .map_or_else(|| "builtin".to_string(), |i| format!("{i:?}")),
            ),
        ] {
            let _ = writeln!(
                s,
                "      <property name=\"{name}\" value=\"{}\"/>",
                escape(&value)
            );
        }
        s.push_str("    </properties>\n");
        for t in record.tests.iter().filter(|t| t.part == part.part) {
            testcase(&mut s, t, graded);
        }
        s.push_str("  </testsuite>\n");
    }
    s.push_str("</testsuites>\n");
    s
}

fn failures_errors(graded: bool, failed: usize) -> (usize, usize) {
    if graded { (failed, 0) } else { (0, failed) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_drops_control_characters() {
        assert_eq!(
            escape("a<b>&\"c'\u{1b}[0m\n"),
            "a&lt;b&gt;&amp;&quot;c&apos;[0m\n"
        );
    }
}
