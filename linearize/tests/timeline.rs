//! The timeline data of a failing corpus history, and its HTML page.

use linearize::edn::parse_kv_history;
use linearize::models::Kv;
use linearize::timeline::timeline;
use linearize::{Config, ExplainConfig, PartOutcome, TimeUnit, check, explain};

#[test]
fn marks_lanes_order_failing_operation_and_minimal_sub_history() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/c10-bad.txt");
    let history =
        parse_kv_history(&std::fs::read_to_string(path).expect("corpus")).expect("parses");
    let result = check(&Kv, &history, &Config::default());
    let explanation = explain(&Kv, &history, &result, &ExplainConfig::default());
    let t = timeline(
        &Kv,
        &history,
        &result,
        explanation.as_ref(),
        TimeUnit::Ticks,
    );
    assert_eq!(t.verdict, "NotLinearizable");
    assert_eq!(t.clients.len(), 10);
    assert_eq!(t.ops.len(), history.len());
    assert!(t.ops.iter().all(|op| t.clients[op.lane] == op.client));
    assert_eq!(t.ops.iter().filter(|op| op.failing).count(), 1);
    let minimal = explanation.expect("explained").minimal_indices();
    let marked: Vec<usize> = t
        .ops
        .iter()
        .filter(|op| op.minimal)
        .map(|op| op.index)
        .collect();
    assert_eq!(marked, minimal);
    for part in &t.parts {
        for (k, &i) in part.order.iter().enumerate() {
            assert_eq!(t.ops[i].position, Some(k));
        }
        if part.outcome == PartOutcome::Linearizable {
            assert_eq!(
                part.order.len(),
                t.ops.iter().filter(|op| t.parts[op.part] == *part).count()
            );
        }
    }

    #[cfg(feature = "html")]
    {
        let page = linearize::timeline::html_page(&t, "c10 <bad>").expect("renders");
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<title>c10 &lt;bad&gt;</title>"));
        let start = page
            .find(r#"<script id="data" type="application/json">"#)
            .expect("data")
            + 42;
        let end = start + page[start..].find("</script>").expect("end of data");
        let data: serde_json::Value =
            serde_json::from_str(&page[start..end]).expect("the embedded data is JSON");
        assert_eq!(data["ops"].as_array().map(Vec::len), Some(history.len()));
    }
}
