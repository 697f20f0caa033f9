//! The peers' own log lines: a `tracing` layer, installed for every thread of a test, that
//! turns each event a peer logs (`tracing::info!` and friends, anywhere in its code) into a
//! `log` event in that peer's lane, with the virtual time. No setup on the peer's side.
//!
//! Which lines are recorded: INFO and above by default, everything with `--trace` or `--log`,
//! or what `--level` (or the `RAFT_LOG` environment variable) says: a level (`debug`) or
//! `tracing-subscriber` directives (`warn,vote=trace`, where `vote` is a target). A line's
//! topic is its `topic` field (`tracing::debug!(topic = "vote", ...)`), recorded apart so
//! that `--topic` and `grader view --topic` can pick lines by it.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::subscriber::DefaultGuard;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::{EnvFilter, Layer};

use super::event::Event;
use crate::panics;

/// Collects an event's message and fields as `message k=v k=v`, and its `topic` field.
#[derive(Default)]
struct Text {
    message: String,
    fields: String,
    topic: Option<String>,
}

impl Visit for Text {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message.push_str(value),
            "topic" => self.topic = Some(value.to_string()),
            name => {
                let _ = write!(self.fields, " {name}={value}");
            }
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "message" => {
                let _ = write!(self.message, "{value:?}");
            }
            "topic" => self.topic = Some(format!("{value:?}")),
            name => {
                let _ = write!(self.fields, " {name}={value:?}");
            }
        }
    }
}

/// The layer: records each event in the test of the thread it happens on.
struct PeerLines;

impl<S: tracing::Subscriber> Layer<S> for PeerLines {
    fn on_event(&self, event: &tracing::Event<'_>, _cx: Context<'_, S>) {
        let Some((t, peer)) = panics::current_test_and_peer() else {
            return;
        };
        let mut text = Text::default();
        event.record(&mut text);
        text.message.push_str(&text.fields);
        let meta = event.metadata();
        t.note(Event::Log {
            peer,
            level: meta.level().as_str(),
            target: meta.target(),
            message: text.message,
            topic: text.topic,
        });
    }
}

/// Which lines are recorded: a level, or `tracing-subscriber` directives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Level {
    /// This level and above.
    Level(LevelFilter),
    /// `EnvFilter` directives (e.g. `warn,vote=trace`), checked when given.
    Directives(String),
}

/// Records the log lines of this thread that `level` lets through, until the guard drops.
pub(crate) fn capture(level: &Level) -> DefaultGuard {
    match level {
        Level::Level(l) => {
            let subscriber = tracing_subscriber::registry().with(PeerLines.with_filter(*l));
            tracing::subscriber::set_default(subscriber)
        }
        Level::Directives(d) => {
            let filter = EnvFilter::builder()
                .parse(d)
                .unwrap_or_else(|_| EnvFilter::new("info"));
            let subscriber = tracing_subscriber::registry().with(PeerLines.with_filter(filter));
            tracing::subscriber::set_default(subscriber)
        }
    }
}

/// Directives that do not parse.
#[derive(Debug, thiserror::Error)]
#[error(
    "bad log level {given:?}: give a level (error, warn, info, debug, trace, off) or tracing directives such as `warn,vote=trace`: {reason}"
)]
pub struct BadLevel {
    /// What was given.
    pub given: String,
    /// Why it does not parse.
    pub reason: String,
}

/// Parses a `--level` value (or `RAFT_LOG`).
pub(crate) fn parse_level(s: &str) -> Result<Level, BadLevel> {
    if let Ok(l) = s.trim().parse::<LevelFilter>() {
        return Ok(Level::Level(l));
    }
    EnvFilter::builder()
        .parse(s)
        .map(|_| Level::Directives(s.to_string()))
        .map_err(|e| BadLevel {
            given: s.to_string(),
            reason: e.to_string(),
        })
}

/// The level recorded: `given` (`--level` or `RAFT_LOG`) if any, else INFO and above, or
/// everything with `--trace` or `--log`.
pub(crate) fn level(given: Option<&Level>, verbose: bool) -> Level {
    match given {
        Some(l) => l.clone(),
        None if verbose => Level::Level(LevelFilter::TRACE),
        None => Level::Level(LevelFilter::INFO),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::TestContext;
    use crate::panics::as_peer;
    use crate::trace::Header;

    #[test]
    fn a_peers_log_line_lands_in_its_lane_at_its_level() {
        let t = TestContext::new(1, Box::new(|_| {}));
        panics::enter(&t);
        let guard = capture(&level(None, false));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        rt.block_on(async {
            t.trace().begin();
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            as_peer(2, || tracing::info!(term = 3, "became leader"));
            as_peer(1, || tracing::debug!("not recorded at INFO"));
            tracing::warn!("no peer");
        });
        drop(guard);
        panics::leave();
        let header = Header {
            name: "x".into(),
            go_name: "X".into(),
            title: String::new(),
            seed: 1,
            test_seed: 1,
            peers: 3,
            real_time: false,
            truncated: 0,
        };
        let events = t.trace().jsonl(&header);
        let logs: Vec<&str> = events.lines().skip(1).collect();
        assert_eq!(logs.len(), 2, "{events}");
        assert!(logs[0].starts_with(r#"{"t":5000,"kind":"log","peer":2,"level":"INFO""#));
        assert!(
            logs[0].ends_with(r#""message":"became leader term=3"}"#),
            "{}",
            logs[0]
        );
        assert!(
            logs[1].contains(r#""peer":null,"level":"WARN""#),
            "{}",
            logs[1]
        );
    }
}
