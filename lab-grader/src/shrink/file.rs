//! The choices file (`choices.json` in a bundle): a run's recorded choices, with what names
//! the run (test, seed). `grader --choices FILE` replays it. See docs/EVENTS.md.

use std::path::{Path, PathBuf};

use labrpc_sim::Recorded;
use serde::{Deserialize, Serialize};

/// The version of the choices file this grader writes. Schema 2 added the peers' own draws
/// (`choices.peers`); a schema 1 file is read too, and its peers draw from their seeds, as
/// its run did.
pub const SCHEMA: u32 = 2;

/// The oldest version this grader reads.
const OLDEST: u32 = 1;

/// A choices file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoicesFile {
    /// [`SCHEMA`].
    pub schema: u32,
    /// The test's function name (`figure8_unreliable_2c`, or `explore`).
    pub test: String,
    /// The run seed (an explore run's profile, and the bundle's name, come from it).
    pub seed: u64,
    /// The test seed (the streams' RNGs are seeded from it; a replay never draws from them).
    pub test_seed: u64,
    /// The choices, one sequence per stream.
    pub choices: Recorded,
}

/// A choices file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ChoicesError {
    /// The file cannot be read.
    #[error("cannot read the choices file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a choices file.
    #[error("{path} is not a choices file: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// The file is of another version.
    #[error("{path}: choices file schema {found}, this grader reads schemas {OLDEST} to {SCHEMA}")]
    Schema {
        /// The file.
        path: PathBuf,
        /// Its schema.
        found: u32,
    },
}

impl ChoicesFile {
    /// Reads `path` (a choices file, or a bundle directory holding `choices.json`).
    pub fn read(path: &Path) -> Result<ChoicesFile, ChoicesError> {
        let path = if path.is_dir() {
            path.join("choices.json")
        } else {
            path.to_path_buf()
        };
        let text = std::fs::read_to_string(&path).map_err(|source| ChoicesError::Read {
            path: path.clone(),
            source,
        })?;
        let file: ChoicesFile =
            serde_json::from_str(&text).map_err(|source| ChoicesError::Parse {
                path: path.clone(),
                source,
            })?;
        if !(OLDEST..=SCHEMA).contains(&file.schema) {
            return Err(ChoicesError::Schema {
                path,
                found: file.schema,
            });
        }
        Ok(file)
    }

    /// The file's text: one stream per line, so that a diff of two files reads.
    pub fn to_text(&self) -> String {
        let list = |v: &[u64]| {
            let items: Vec<String> = v.iter().map(u64::to_string).collect();
            format!("[{}]", items.join(","))
        };
        let c = &self.choices;
        // One peer incarnation's draws a line.
        let peers = c.peers.as_ref().map_or(String::new(), |p| {
            let lines: Vec<String> = p.iter().map(|v| list(v)).collect();
            format!(",\n\"peers\":[\n{}\n]", lines.join(",\n"))
        });
        format!(
            "{{\"schema\":{},\"test\":{},\"seed\":{},\"test_seed\":{},\"choices\":{{\n\
             \"network\":{},\n\"test\":{},\n\"peer_seed\":{},\n\"explore\":{}{peers}\n}}}}\n",
            self.schema,
            serde_json::Value::String(self.test.clone()),
            self.seed,
            self.test_seed,
            list(&c.network),
            list(&c.test),
            list(&c.peer_seed),
            list(&c.explore),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_reads_back() {
        let f = ChoicesFile {
            schema: SCHEMA,
            test: "backup_2b".into(),
            seed: 7,
            test_seed: u64::MAX,
            choices: Recorded {
                network: vec![0, 5, 899],
                test: vec![1],
                peer_seed: vec![u64::MAX],
                explore: vec![],
                peers: Some(vec![vec![3, 0], vec![]]),
            },
        };
        let back: ChoicesFile = serde_json::from_str(&f.to_text()).unwrap();
        assert_eq!(back, f);
        let old = ChoicesFile {
            schema: 1,
            choices: Recorded {
                peers: None,
                ..f.choices
            },
            ..f
        };
        let back: ChoicesFile = serde_json::from_str(&old.to_text()).unwrap();
        assert_eq!(back, old);
    }
}
