//! The grade as Gradescope's `results.json` (the autograder specification's documented
//! fields only): top level `score`, `execution_time` (whole seconds), `output`,
//! `visibility`, `stdout_visibility`, `extra_data` (the total `max_score`, the seed, the run
//! counts, the status) and `tests`; each test has `name`, `number` (its part), `score`,
//! `max_score`, `status` (`passed`/`failed`), `output` (runs passed, the failure and its
//! replay command) and `visibility`. Everything is `visible`: a student needs the seed and
//! the replay command to fix a failure.

use serde::Serialize;

use super::record::{GradeRecord, Isolation, Status};

/// One entry of `tests`.
#[derive(Serialize, Debug)]
pub struct GradescopeTest {
    /// The test's Go name and title.
    pub name: String,
    /// The part (`2A`), which Gradescope shows as the test's number.
    pub number: String,
    /// Points scored.
    pub score: f64,
    /// Points available.
    pub max_score: f64,
    /// `passed` or `failed`.
    pub status: &'static str,
    /// What the student sees: runs passed, the failure message, the replay command.
    pub output: String,
    /// `visible`.
    pub visibility: &'static str,
}

/// `results.json`.
#[derive(Serialize, Debug)]
pub struct GradescopeResults {
    /// Points scored.
    pub score: f64,
    /// Whole seconds of wall time.
    pub execution_time: u64,
    /// The summary shown above the tests.
    pub output: String,
    /// `visible`.
    pub visibility: &'static str,
    /// `hidden`: the grader's stdout is in `output` already.
    pub stdout_visibility: &'static str,
    /// The total available, seed and settings, for staff scripts.
    pub extra_data: serde_json::Value,
    /// One per test.
    pub tests: Vec<GradescopeTest>,
}

/// Gradescope's view of a grade.
pub fn results(record: &GradeRecord) -> GradescopeResults {
    let tests = record
        .tests
        .iter()
        .map(|t| {
            let mut output = format!("{} of {} runs passed.", t.runs_passed, t.runs.len());
            if let Some(m) = &t.message {
                output.push('\n');
                output.push_str(m);
            }
            if let Some(r) = &t.replay {
                output.push_str("\nreplay: ");
                output.push_str(r);
            }
            GradescopeTest {
                name: format!("{} ({})", t.go_name, t.title),
                number: t.part.clone(),
                score: t.score,
                max_score: t.max_score,
                status: if t.passed { "passed" } else { "failed" },
                output,
                visibility: "visible",
            }
        })
        .collect();
    let mut output = format!(
        "Score {:.2}/{:.2}. Each test ran {} time(s) in virtual time and {} time(s) on the real \
         clock (seed {}); a test scores its points when every run passes.",
        record.score, record.max_score, record.virtual_runs, record.real_time_runs, record.seed
    );
    match record.isolation {
        Some(Isolation::Sandbox) => output.push_str(
            "\nProcess mode: every peer a sandboxed process of the submission, real time only.",
        ),
        Some(Isolation::NoSandbox) => {
            output.push_str("\nProcess mode, real time only, NOT SANDBOXED (--no-sandbox).")
        }
        None => {}
    }
    match (&record.message, record.status) {
        (Some(m), Status::Graded) => output.push_str(&format!("\n{m}")),
        (Some(m), status) => output.push_str(&format!("\nNot graded ({status:?}):\n{m}")),
        (None, _) => {}
    }
    let mut extra_data = serde_json::json!({
        "max_score": record.max_score,
        "seed": record.seed,
        "virtual_runs": record.virtual_runs,
        "real_time_runs": record.real_time_runs,
        "status": record.status,
        "schema": record.schema,
    });
    if let (Some(isolation), Some(map)) = (record.isolation, extra_data.as_object_mut()) {
        map.insert("isolation".to_string(), serde_json::json!(isolation));
    }
    GradescopeResults {
        score: record.score,
        execution_time: record.wall_secs.max(0.0).round() as u64,
        output,
        visibility: "visible",
        stdout_visibility: "hidden",
        extra_data,
        tests,
    }
}

/// `results.json` as text.
pub fn to_gradescope(record: &GradeRecord) -> String {
    let json = serde_json::to_string_pretty(&results(record))
        .unwrap_or_else(|e| format!("{{\"score\": 0, \"output\": \"{e}\"}}"));
    format!("{json}\n")
}
