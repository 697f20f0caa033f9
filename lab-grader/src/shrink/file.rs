//! The choices file (`choices.json` in a bundle): a run's recorded choices, with what names
//! the run (test, seed). `grader --choices FILE` replays it. See docs/EVENTS.md.

use std::path::{Path, PathBuf};

use labrpc_sim::Recorded;
use serde::{Deserialize, Serialize};

/// The version of the choices file this grader writes and reads.
pub const SCHEMA: u32 = 1;

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
    #[error("{path}: choices file schema {found}, this grader reads schema {SCHEMA}")]
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
        if file.schema != SCHEMA {
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
        format!(
            "{{\"schema\":{},\"test\":{},\"seed\":{},\"test_seed\":{},\"choices\":{{\n\
             \"network\":{},\n\"test\":{},\n\"peer_seed\":{},\n\"explore\":{}\n}}}}\n",
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
            },
        };
        let back: ChoicesFile = serde_json::from_str(&f.to_text()).unwrap();
        assert_eq!(back, f);
    }
}
