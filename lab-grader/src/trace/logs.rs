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
