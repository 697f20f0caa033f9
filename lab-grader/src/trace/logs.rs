//! The peers' own log lines: a `tracing` layer, installed for every thread of a test, that
//! turns each event a peer logs (`tracing::info!` and friends, anywhere in its code) into a
//! `log` event in that peer's lane, with the virtual time. No setup on the peer's side.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::level_filters::LevelFilter;
use tracing::subscriber::DefaultGuard;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};

use super::event::Event;
use crate::panics;

/// Collects an event's message and fields as `message k=v k=v`.
#[derive(Default)]
struct Text {
    message: String,
    fields: String,
}

impl Visit for Text {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
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
        });
    }
}

/// Records the log lines of this thread, at `level` and above, until the guard drops.
pub(crate) fn capture(level: LevelFilter) -> DefaultGuard {
    let subscriber = tracing_subscriber::registry().with(PeerLines.with_filter(level));
    tracing::subscriber::set_default(subscriber)
}

/// The level recorded: INFO and above, everything with `--trace` or `--log`.
pub(crate) fn level(verbose: bool) -> LevelFilter {
    if verbose {
        LevelFilter::TRACE
    } else {
        LevelFilter::INFO
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
        let guard = capture(level(false));
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
