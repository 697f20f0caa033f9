//! `lin-view HISTORY OUT.html [--whole] [--budget STEPS]`: checks a history and writes a
//! self-contained HTML timeline of the result, with the explanation if it is not
//! linearizable. HISTORY is a Jepsen-style key/value history (one EDN map per event, the
//! Porcupine corpus format, checked with the 6.824 Put/Append/Get model; times are event
//! numbers), or, if it ends in `.json`, a Lab 4 history: a JSON array of operations of the
//! versioned store (`linearize::Operation<VersionedInput, VersionedOutput>`, times in
//! nanoseconds). Exit status: 0 linearizable, 1 not linearizable, 3 unknown, 2 bad usage or
//! input.

use std::process::ExitCode;

use linearize::edn::parse_kv_history;
use linearize::models::{Kv, VersionedInput, VersionedKv, VersionedOutput};
use linearize::timeline::{html_page, timeline};
use linearize::{
    CheckResult, Config, ExplainConfig, Model, Operation, TimeUnit, Verdict, check, explain,
};

const USAGE: &str = "usage: lin-view HISTORY OUT.html [--whole] [--budget STEPS]";

struct Args {
    input: String,
    output: String,
    config: Config,
}

fn parse_args() -> Result<Args, String> {
    let mut positional = Vec::new();
    let mut config = Config::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--whole" => config.partition = false,
            "--budget" => {
                let value = args.next().ok_or("--budget needs a number of steps")?;
                config.budget = value
                    .parse()
                    .map_err(|_| format!("--budget: not a number: {value}"))?;
            }
            "-h" | "--help" => return Err(String::new()),
            _ if arg.starts_with('-') => return Err(format!("unknown option {arg}")),
            _ => positional.push(arg),
        }
    }
    let [input, output] = <[String; 2]>::try_from(positional)
        .map_err(|_| "expected HISTORY and OUT.html".to_owned())?;
    Ok(Args {
        input,
        output,
        config,
    })
}

/// Checks, explains and renders; returns the page and the verdict.
fn view<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    config: &Config,
    unit: TimeUnit,
    title: &str,
) -> Result<(String, CheckResult), serde_json::Error> {
    let result = check(model, history, config);
    let explanation = explain(model, history, &result, &ExplainConfig::default());
    if let Some(e) = &explanation {
        eprint!("{}", e.render(unit));
    }
    let page = html_page(
        &timeline(model, history, &result, explanation.as_ref(), unit),
        title,
    )?;
    Ok((page, result))
}

fn run(args: &Args) -> Result<CheckResult, String> {
    let source =
        std::fs::read_to_string(&args.input).map_err(|e| format!("{}: {e}", args.input))?;
    let title = format!("linearizability: {}", args.input);
    let (page, result) = if args.input.ends_with(".json") {
        let history: Vec<Operation<VersionedInput, VersionedOutput>> =
            serde_json::from_str(&source).map_err(|e| format!("{}: {e}", args.input))?;
        view(
            &VersionedKv::new(),
            &history,
            &args.config,
            TimeUnit::Nanoseconds,
            &title,
        )
    } else {
        let history = parse_kv_history(&source).map_err(|e| format!("{}: {e}", args.input))?;
        view(&Kv, &history, &args.config, TimeUnit::Ticks, &title)
    }
    .map_err(|e| format!("rendering: {e}"))?;
    std::fs::write(&args.output, page).map_err(|e| format!("{}: {e}", args.output))?;
    Ok(result)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("lin-view: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(result) => {
            println!(
                "{:?} ({} steps); wrote {}",
                result.verdict, result.steps, args.output
            );
            match result.verdict {
                Verdict::Linearizable => ExitCode::SUCCESS,
                Verdict::NotLinearizable { .. } => ExitCode::from(1),
                Verdict::Unknown { .. } => ExitCode::from(3),
            }
        }
        Err(message) => {
            eprintln!("lin-view: {message}");
            ExitCode::from(2)
        }
    }
}
