//! `cargo run -p grader -- <PART>...`: grades the reference peer (or `--impl student`), or
//! writes a class handout (`handout <DIR>`). See `--help`.

fn main() {
    std::process::exit(grader::cli::main_builtin());
}
