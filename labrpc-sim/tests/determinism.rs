//! Determinism (DESIGN "deterministic by construction"): on a current-thread runtime with a
//! paused clock, a run's outcomes are a function of the seed alone.

mod common;

use std::time::Duration;

use common::{Outcome, echo_server, wired_end};
use labrpc_sim::{Bytes, Network};
use tokio::time::Instant;

/// A busy scenario: unreliable, long reordering, long delays, a live end and a disabled one,
/// slow handlers, and a server restart part-way. Returns every call's outcome in order.
fn run(seed: u64) -> Vec<Outcome> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let net = Network::new(seed);
        net.set_reliable(false);
        net.set_long_reordering(true);
        net.set_long_delays(true);
        net.add_server("s", echo_server());
        let live = wired_end(&net, "live", "s");
        let dead = net.make_end("dead").expect("fresh end");
        net.connect("dead", "s").expect("unconnected end");
        let restarter = {
            let net = net.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(250)).await;
                net.add_server("s", echo_server());
            })
        };
        let calls = (0..400u64).map(|i| {
            let end = if i % 5 == 0 {
                dead.clone()
            } else {
                live.clone()
            };
            async move {
                let start = Instant::now();
                let ok = if i % 2 == 0 {
                    end.call_typed::<_, u64>("Echo.Sleep", &(i % 7 * 60))
                        .await
                        .is_ok()
                } else {
                    end.call("Echo.Echo", Bytes::from(vec![0u8; 8]))
                        .await
                        .is_ok()
                };
                Outcome {
                    ok,
                    elapsed: start.elapsed(),
                }
            }
        });
        let outcomes = futures::future::join_all(calls).await;
        restarter.await.expect("restarter task");
        outcomes
    })
}

#[test]
fn same_seed_same_outcomes_other_seed_other_outcomes() {
    let first = run(1234);
    let second = run(1234);
    assert_eq!(first, second, "one seed, one outcome sequence");
    assert!(first.iter().any(|o| o.ok) && first.iter().any(|o| !o.ok));
    let other = run(1235);
    assert_ne!(first, other, "another seed gives another sequence");
}
