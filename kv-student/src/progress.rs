//! Your progress through Lab 4. **Flip a constant to `true` when you have finished that
//! part.** The grader prints the hint of every part still marked unfinished when a test
//! fails, so that an unfinished layer fails with a hint instead of a bare timeout.

/// Part 4A, the rsm, is written.
pub const DONE_4A: bool = false;
/// Part 4B, the key/value server and clerk, is written.
pub const DONE_4B: bool = false;
/// Part 4C, snapshots, is written.
pub const DONE_4C: bool = false;

/// Each part's flag and the hint the grader shows while the flag is `false`.
const PARTS: [(bool, &str); 3] = [
    (
        DONE_4A,
        "4A: the rsm is not written yet: fill in submit() and apply() (rsm.rs), then set \
         DONE_4A in progress.rs",
    ),
    (
        DONE_4B,
        "4B: the key/value service is not written yet: fill in do_op() (server.rs), get() \
         and put() (clerk.rs), then set DONE_4B in progress.rs",
    ),
    (
        DONE_4C,
        "4C: snapshots are not written yet: fill in snapshot() and restore() (server.rs), \
         maybe_snapshot() and install() (rsm.rs), then set DONE_4C in progress.rs",
    ),
];

/// The hints of every part not yet marked done, in part order.
pub fn missing() -> Vec<&'static str> {
    PARTS
        .iter()
        .filter(|(done, _)| !done)
        .map(|(_, hint)| *hint)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unfinished_part_has_a_hint_that_names_it() {
        let missing = missing();
        for (part, done) in [("4A", DONE_4A), ("4B", DONE_4B), ("4C", DONE_4C)] {
            let listed = missing.iter().any(|hint| hint.starts_with(part));
            assert_eq!(listed, !done, "part {part}");
        }
    }

    /// The hints send the student to `name()` in `(file.rs)`: each such function must be
    /// there.
    #[test]
    fn every_function_a_hint_names_is_in_the_file_it_names() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        for (_, hint) in PARTS {
            let mut pending = Vec::new();
            for word in hint.split([' ', ',']) {
                if let Some(name) = word.strip_suffix("()") {
                    pending.push(name);
                } else if let Some(file) = word.strip_prefix('(').and_then(|w| w.strip_suffix(')'))
                {
                    let text = std::fs::read_to_string(src.join(file)).unwrap();
                    for name in pending.drain(..) {
                        assert!(text.contains(&format!("fn {name}(")), "{name} in {file}");
                    }
                }
            }
            assert!(pending.is_empty(), "{pending:?}: {hint}");
        }
    }
}
