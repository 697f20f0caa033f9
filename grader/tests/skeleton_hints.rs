//! The skeleton's hints send a student to `name()` in `(file.rs)`: each such function must be
//! in the file named, so that the project cannot move code in the skeleton without updating
//! its hints. This lives here, in the project's tests, and not in the student's crate: a
//! student who renames or moves functions must not break their own `cargo test`.

use std::path::Path;

#[test]
fn every_function_a_hint_names_is_in_the_file_it_names() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../raft-student/src");
    let hints = raft_student::progress::missing();
    assert_eq!(
        hints.len(),
        4,
        "the skeleton ships with every part unfinished"
    );
    for hint in hints {
        let (mut pending, mut found) = (Vec::new(), Vec::new());
        for word in hint.split([' ', ',']) {
            if let Some(name) = word.strip_suffix("()") {
                pending.push(name);
            } else if let Some(file) = word.strip_prefix('(').and_then(|w| w.strip_suffix(')')) {
                let path = src.join(file);
                let text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                for name in pending.drain(..) {
                    assert!(text.contains(&format!("fn {name}(")), "{name} in {file}");
                    found.push(name);
                }
            }
        }
        assert!(!found.is_empty(), "{hint}");
        assert!(
            pending.iter().all(|name| found.contains(name)),
            "{pending:?}: {hint}"
        );
    }
}
