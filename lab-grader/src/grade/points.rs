//! Points per test: Go's convention by default (each test all-or-nothing, the parts of a lab
//! weighted equally, each lab 100 points: 25 for each of 2A-2D, 100/3 for each of 4A-4C, a
//! part's points split equally among its tests), or a small TOML file:
//!
//! ```toml
//! # Points of a part not listed under [parts] (default: 25 for 2A-2D and extra, 100/3 for
//! # 4A-4C).
//! part_points = 25
//!
//! # A part's points, split equally among its tests (less the tests given below).
//! [parts]
//! 2A = 10
//! 2B = 30
//! extra = 10
//!
//! # A test's own points (by name or Go name); they count within its part's points, and the
//! # part's other tests share the rest.
//! [tests]
//! figure8_unreliable_2c = 10
//! TestSnapshotInit2D = 0
//! ```
//!
//! Parts are `2A`-`2D` (or `3A`-`3D`), `4A`-`4C` and `extra` (the extra suite, graded only
//! when named). An unknown key, part or test, a negative number, or tests whose points exceed
//! their part's is an error, so a typo never grades silently.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::cli::{PartArg, parse_part};
use crate::suites::{Part, TestCase};

/// Points of a Raft lab part not listed in the file: the four parts make 100.
pub const DEFAULT_PART_POINTS: f64 = 25.0;

/// Points of a part not listed in the file: each lab's parts make 100 (25 for each of
/// 2A-2D, 100/3 for each of 4A-4C); the extra suite, graded only when named (`grade extra`),
/// is a part of 25 points of its own, on top of a lab's 100.
pub fn default_part_points(part: Part) -> f64 {
    match part {
        Part::A | Part::B | Part::C | Part::D | Part::Extra => DEFAULT_PART_POINTS,
        Part::KvA | Part::KvB | Part::KvC => 100.0 / 3.0,
    }
}

/// Every part that has points: the labs' and the extra suite.
const GRADED_PARTS: [Part; 8] = [
    Part::A,
    Part::B,
    Part::C,
    Part::D,
    Part::KvA,
    Part::KvB,
    Part::KvC,
    Part::Extra,
];

/// A points file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PointsError {
    /// Not valid TOML, or an unknown key.
    #[error("points file: {0}")]
    Toml(String),
    /// A part name that is not 2A-2D (or 3A-3D), 4A-4C or extra.
    #[error(
        "points file: unknown part {0:?} under [parts]: expected 2A, 2B, 2C, 2D, 4A, 4B, 4C or extra"
    )]
    UnknownPart(String),
    /// A test name that is no test's name or Go name.
    #[error("points file: unknown test {0:?} under [tests]: use a name from --list")]
    UnknownTest(String),
    /// A negative or non-finite number.
    #[error("points file: {what} has {points} points; points must be zero or more")]
    Negative {
        /// The key.
        what: String,
        /// Its value.
        points: f64,
    },
    /// Tests given more points than their part has.
    #[error(
        "points file: the tests of part {part} listed under [tests] have {tests} points, more than the part's {part_points}"
    )]
    Overdrawn {
        /// The part.
        part: Part,
        /// Its points.
        part_points: f64,
        /// The sum of its listed tests' points.
        tests: f64,
    },
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PointsFile {
    part_points: Option<f64>,
    #[serde(default)]
    parts: BTreeMap<String, f64>,
    #[serde(default)]
    tests: BTreeMap<String, f64>,
}

/// The points of every test (all 28, whatever is selected, so a test's points never depend
/// on the selection).
#[derive(Clone, Debug, PartialEq)]
pub struct Points {
    by_test: BTreeMap<&'static str, f64>,
}

fn non_negative(what: &str, points: f64) -> Result<f64, PointsError> {
    if points.is_finite() && points >= 0.0 {
        Ok(points)
    } else {
        Err(PointsError::Negative {
            what: what.to_string(),
            points,
        })
    }
}

impl Points {
    /// Go's convention: 25 points a part, split equally among its tests.
    pub fn go_default(tests: &[TestCase]) -> Points {
        Points::from_file(PointsFile::default(), tests).unwrap_or(Points {
            by_test: BTreeMap::new(),
        })
    }

    /// Points from the text of a points file.
    pub fn from_toml(text: &str, tests: &[TestCase]) -> Result<Points, PointsError> {
        let file: PointsFile =
            toml::from_str(text).map_err(|e| PointsError::Toml(e.to_string()))?;
        Points::from_file(file, tests)
    }

    fn from_file(file: PointsFile, tests: &[TestCase]) -> Result<Points, PointsError> {
        let default = file
            .part_points
            .map(|p| non_negative("part_points", p))
            .transpose()?;
        let mut part_points: BTreeMap<Part, f64> = GRADED_PARTS
            .iter()
            .map(|p| (*p, default.unwrap_or_else(|| default_part_points(*p))))
            .collect();
        for (name, points) in &file.parts {
            let part = match parse_part(name) {
                Ok(PartArg::One(p)) => p,
                _ => return Err(PointsError::UnknownPart(name.clone())),
            };
            part_points.insert(part, non_negative(name, *points)?);
        }
        let mut explicit: BTreeMap<&'static str, f64> = BTreeMap::new();
        for (name, points) in &file.tests {
            let case = tests
                .iter()
                .find(|c| c.name == name || c.go_name == name)
                .ok_or_else(|| PointsError::UnknownTest(name.clone()))?;
            explicit.insert(case.name, non_negative(name, *points)?);
        }
        let mut by_test = BTreeMap::new();
        for part in GRADED_PARTS {
            let total = part_points[&part];
            let in_part: Vec<&TestCase> = tests.iter().filter(|c| c.part == part).collect();
            let given: f64 = in_part.iter().filter_map(|c| explicit.get(c.name)).sum();
            if given > total + 1e-9 {
                return Err(PointsError::Overdrawn {
                    part,
                    part_points: total,
                    tests: given,
                });
            }
            let rest = in_part
                .iter()
                .filter(|c| !explicit.contains_key(c.name))
                .count();
            let share = if rest == 0 {
                0.0
            } else {
                (total - given) / rest as f64
            };
            for c in in_part {
                by_test.insert(c.name, explicit.get(c.name).copied().unwrap_or(share));
            }
        }
        Ok(Points { by_test })
    }

    /// The points of test `name` (its function name).
    pub fn of(&self, name: &str) -> f64 {
        self.by_test.get(name).copied().unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suites::{all_tests, extra_tests};

    struct Never;
    impl lab_api::LabRaft for Never {
        fn make(_: lab_api::PeerArgs) -> std::sync::Arc<Self> {
            std::sync::Arc::new(Never)
        }
        fn service(self: std::sync::Arc<Self>) -> labrpc_sim::Service {
            labrpc_sim::Service::new("Raft")
        }
        fn start(self: &std::sync::Arc<Self>, _: bytes::Bytes) -> Option<lab_api::Started> {
            None
        }
        fn get_state(&self) -> (u64, bool) {
            (0, false)
        }
        fn snapshot(self: &std::sync::Arc<Self>, _: u64, _: bytes::Bytes) {}
        fn kill(&self) {}
    }

    fn tests() -> Vec<TestCase> {
        let mut tests = all_tests::<Never>();
        tests.extend(extra_tests::<Never>());
        tests
    }

    fn part_total(p: &Points, part: Part) -> f64 {
        tests()
            .iter()
            .filter(|c| c.part == part)
            .map(|c| p.of(c.name))
            .sum()
    }

    #[test]
    fn go_default_is_25_a_part_split_equally() {
        let p = Points::go_default(&tests());
        for part in Part::RAFT {
            assert!((part_total(&p, part) - 25.0).abs() < 1e-9);
        }
        let lab4: f64 = Part::KV.iter().map(|p| default_part_points(*p)).sum();
        assert!((lab4 - 100.0).abs() < 1e-9);
        assert!((p.of("initial_election_2a") - 25.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn a_file_sets_parts_and_tests() {
        let text = "part_points = 20\n[parts]\n2A = 10\n3B = 40\n[tests]\nTestFigure82C = 8\n";
        let p = Points::from_toml(text, &tests()).unwrap();
        assert!((part_total(&p, Part::A) - 10.0).abs() < 1e-9);
        assert!((part_total(&p, Part::B) - 40.0).abs() < 1e-9);
        assert!((part_total(&p, Part::C) - 20.0).abs() < 1e-9);
        assert!((p.of("figure8_2c") - 8.0).abs() < 1e-9);
        assert!((p.of("persist1_2c") - 12.0 / 7.0).abs() < 1e-9);
    }

    #[test]
    fn the_extra_suite_is_a_part_of_its_own() {
        let p = Points::go_default(&tests());
        assert!((part_total(&p, Part::Extra) - 25.0).abs() < 1e-9);
        assert!((p.of("vote_survives_restart_x") - 5.0).abs() < 1e-9);
        let p = Points::from_toml(
            "[parts]\nextra = 10\n[tests]\nExtraVoteSurvivesRestart = 2\n",
            &tests(),
        )
        .unwrap();
        assert!((part_total(&p, Part::Extra) - 10.0).abs() < 1e-9);
        assert!((p.of("vote_survives_restart_x") - 2.0).abs() < 1e-9);
        assert!((p.of("leader_steps_down_on_reply_x") - 2.0).abs() < 1e-9);
        // The labs' parts keep their points.
        assert!((part_total(&p, Part::A) - 25.0).abs() < 1e-9);
    }

    #[test]
    fn mistakes_are_errors() {
        for (text, needle) in [
            ("[parts]\n2E = 1\n", "unknown part \"2E\""),
            ("[tests]\nnope = 1\n", "unknown test \"nope\""),
            ("[parts]\n2A = -1\n", "must be zero or more"),
            ("bogus = 1\n", "unknown field"),
            (
                "[parts]\n2A = 1\n[tests]\nre_election_2a = 2\n",
                "more than the part's 1",
            ),
            ("[parts\n", "points file"),
        ] {
            let e = Points::from_toml(text, &tests()).unwrap_err().to_string();
            assert!(e.contains(needle), "{text}: {e}");
        }
    }
}
