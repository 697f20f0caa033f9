//! A result as data a timeline can draw ([`Timeline`]): one lane per client, an operation as
//! a bar from call to return, the order found, the failing operation and the minimal failing
//! sub-history marked. With the `html` feature, [`html_page`] turns it into one
//! self-contained HTML page (no I/O here: the caller writes it).

use crate::check::{CheckResult, PartOutcome};
use crate::explain::{Explanation, TimeUnit};
use crate::history::{ClientId, Operation};
use crate::model::Model;

/// One operation on the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TimelineOp {
    /// Its index in the history.
    pub index: usize,
    /// Its client.
    pub client: ClientId,
    /// Its lane (the client's place in [`Timeline::clients`]).
    pub lane: usize,
    /// When it was called.
    pub call: u64,
    /// When it returned (`None`: never).
    pub ret: Option<u64>,
    /// [`Model::describe_operation`].
    pub text: String,
    /// Its part (index into [`Timeline::parts`]).
    pub part: usize,
    /// Its place in its part's order ([`TimelinePart::order`]), if it has one.
    pub position: Option<usize>,
    /// The operation that cannot be placed.
    pub failing: bool,
    /// Part of the minimal failing sub-history.
    pub minimal: bool,
}

/// One part of the history on the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TimelinePart {
    /// Its key.
    pub key: Option<String>,
    /// How its search ended.
    pub outcome: PartOutcome,
    /// Steps spent.
    pub steps: u64,
    /// States cached.
    pub states: u64,
    /// The order found (history indices): a linearization, or the longest prefix of one.
    pub order: Vec<usize>,
}

/// A checked history, ready to draw.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Timeline {
    /// `Linearizable`, `NotLinearizable` or `Unknown`.
    pub verdict: String,
    /// The failing (or unknown) part, if any.
    pub verdict_part: Option<usize>,
    /// The clients, one lane each, in order.
    pub clients: Vec<ClientId>,
    /// Every operation.
    pub ops: Vec<TimelineOp>,
    /// Every part.
    pub parts: Vec<TimelinePart>,
    /// Steps spent in all.
    pub steps: u64,
    /// The explanation, rendered ([`Explanation::render`]).
    pub explanation: Option<String>,
    /// Whether times are nanoseconds (`true`) or ticks.
    pub nanoseconds: bool,
}

/// The timeline of `history` checked as `result`, with its `explanation` if it failed.
pub fn timeline<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    result: &CheckResult,
    explanation: Option<&Explanation>,
    unit: TimeUnit,
) -> Timeline {
    let mut clients: Vec<ClientId> = history.iter().map(|op| op.client).collect();
    clients.sort_unstable();
    clients.dedup();
    let mut part_of = vec![0; history.len()];
    let mut position = vec![None; history.len()];
    for (p, part) in result.parts.iter().enumerate() {
        for &i in &part.ops {
            part_of[i] = p;
        }
        for (k, &i) in part.order.iter().enumerate() {
            position[i] = Some(k);
        }
    }
    let failing = explanation.map(|e| e.minimal_stuck.as_ref().unwrap_or(&e.part).op.index);
    let minimal = explanation
        .map(Explanation::minimal_indices)
        .unwrap_or_default();
    let ops = history
        .iter()
        .enumerate()
        .map(|(i, op)| TimelineOp {
            index: i,
            client: op.client,
            lane: clients.binary_search(&op.client).unwrap_or(0),
            call: op.call,
            ret: op.ret,
            text: model.describe_operation(&op.input, &op.output),
            part: part_of[i],
            position: position[i],
            failing: failing == Some(i),
            minimal: minimal.binary_search(&i).is_ok(),
        })
        .collect();
    let (verdict, verdict_part) = match result.verdict {
        crate::Verdict::Linearizable => ("Linearizable", None),
        crate::Verdict::NotLinearizable { part } => ("NotLinearizable", Some(part)),
        crate::Verdict::Unknown { part, .. } => ("Unknown", Some(part)),
    };
    Timeline {
        verdict: verdict.to_owned(),
        verdict_part,
        clients,
        ops,
        parts: result
            .parts
            .iter()
            .map(|p| TimelinePart {
                key: p.key.clone(),
                outcome: p.outcome,
                steps: p.steps,
                states: p.states,
                order: p.order.clone(),
            })
            .collect(),
        steps: result.steps,
        explanation: explanation.map(|e| e.render(unit)),
        nanoseconds: unit == TimeUnit::Nanoseconds,
    }
}

/// The page's script and style (drawn from the embedded JSON by the browser).
#[cfg(feature = "html")]
const PAGE: &str = include_str!("timeline.html");

/// One self-contained HTML page drawing `timeline` (no external resources).
#[cfg(feature = "html")]
pub fn html_page(timeline: &Timeline, title: &str) -> Result<String, serde_json::Error> {
    // `</` cannot end the script element from inside a JSON string once escaped.
    let data = serde_json::to_string(timeline)?.replace("</", "<\\/");
    let title = title
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    Ok(PAGE.replace("{{TITLE}}", &title).replace("{{DATA}}", &data))
}
