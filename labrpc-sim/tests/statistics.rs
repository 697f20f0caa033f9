//! The numbers of spec 1.4 measured over thousands of calls with fixed seeds, in virtual time.
//! Tolerances are several standard errors wide but tight enough to catch a wrong constant.
//! Run with `--nocapture` to see the measured figures.

mod common;

use std::time::Duration;

use common::{Outcome, concurrent_echoes, echo_server, stats_ms, wired_end};
use labrpc_sim::Network;

fn whole_ms(outcomes: &[Outcome]) -> Vec<Duration> {
    let durations: Vec<Duration> = outcomes.iter().map(|o| o.elapsed).collect();
    for d in &durations {
        assert_eq!(
            d.subsec_nanos() % 1_000_000,
            0,
            "delays are whole milliseconds: {d:?}"
        );
    }
    durations
}

#[tokio::test(start_paused = true)]
async fn unreliable_drops_ten_percent_of_requests_and_ten_percent_of_replies() {
    const N: usize = 20_000;
    let net = Network::new(0x5eed_0001);
    net.set_reliable(false);
    net.add_server("s", echo_server());
    let end = wired_end(&net, "e", "s");
    let outcomes = concurrent_echoes(&end, N, 4).await;

    let dispatched = net.server_count("s").unwrap() as usize;
    let ok = outcomes.iter().filter(|o| o.ok).count();
    let request_drop = (N - dispatched) as f64 / N as f64;
    let reply_drop = (dispatched - ok) as f64 / dispatched as f64;
    println!(
        "unreliable: {N} calls, {dispatched} dispatched, {ok} replies; \
         request drop {request_drop:.4}, reply drop {reply_drop:.4}"
    );
    // Standard error of each rate is about 0.002: 0.012 is six of them; 0.05 or 0.15 fail.
    assert!(
        (request_drop - 0.10).abs() < 0.012,
        "request drop {request_drop}"
    );
    assert!((reply_drop - 0.10).abs() < 0.012, "reply drop {reply_drop}");
}

#[tokio::test(start_paused = true)]
async fn unreliable_short_delay_is_uniform_in_0_to_26_ms() {
    const N: usize = 20_000;
    let net = Network::new(0x5eed_0002);
    net.set_reliable(false);
    net.add_server("s", echo_server());
    let end = wired_end(&net, "e", "s");
    // The handler answers at once, so every call (delivered or dropped at either step) takes
    // exactly the short delay.
    let outcomes = concurrent_echoes(&end, N, 1).await;
    let durations = whole_ms(&outcomes);
    let (min, max, mean) = stats_ms(&durations);
    let failed: Vec<Duration> = outcomes
        .iter()
        .filter(|o| !o.ok)
        .map(|o| o.elapsed)
        .collect();
    let (_, failed_max, _) = stats_ms(&failed);
    println!(
        "short delay: {N} calls, min {min} ms, max {max} ms, mean {mean:.2} ms; \
         slowest failed call {failed_max} ms"
    );
    assert_eq!((min, max), (0.0, 26.0));
    // Uniform 0..=26 has mean 13 and sd 7.8: standard error 0.055 ms.
    assert!((mean - 13.0).abs() < 0.3, "mean {mean}");
    assert!(
        failed_max <= 26.0,
        "a dropped request or reply fails right after the short delay"
    );
}

#[tokio::test(start_paused = true)]
async fn call_to_a_dead_end_fails_after_0_to_6999_ms_with_long_delays() {
    const N: usize = 5_000;
    let net = Network::new(0x5eed_0003);
    net.set_long_delays(true);
    net.add_server("s", echo_server());
    let end = net.make_end("disabled").unwrap();
    net.connect("disabled", "s").unwrap();
    let outcomes = concurrent_echoes(&end, N, 1).await;
    assert!(outcomes.iter().all(|o| !o.ok));
    let (min, max, mean) = stats_ms(&whole_ms(&outcomes));
    println!("case B, long delays: {N} calls, min {min} ms, max {max} ms, mean {mean:.1} ms");
    assert!((0.0..=20.0).contains(&min), "min {min}");
    assert!((6_950.0..=6_999.0).contains(&max), "max {max}");
    // Uniform 0..=6999: mean 3499.5, sd 2021, standard error 29 ms.
    assert!((mean - 3_499.5).abs() < 150.0, "mean {mean}");
    assert_eq!(net.server_count("s"), Some(0));
}

#[tokio::test(start_paused = true)]
async fn call_to_a_dead_end_fails_after_0_to_99_ms_without_long_delays() {
    const N: usize = 5_000;
    let net = Network::new(0x5eed_0004);
    net.set_reliable(false); // reliability does not matter on the dead-end path
    let end = net.make_end("unconnected").unwrap();
    net.enable("unconnected", true).unwrap();
    let outcomes = concurrent_echoes(&end, N, 1).await;
    assert!(outcomes.iter().all(|o| !o.ok));
    let (min, max, mean) = stats_ms(&whole_ms(&outcomes));
    println!("case B, short delays: {N} calls, min {min} ms, max {max} ms, mean {mean:.2} ms");
    assert_eq!((min, max), (0.0, 99.0));
    // Uniform 0..=99: mean 49.5, sd 28.9, standard error 0.41 ms.
    assert!((mean - 49.5).abs() < 2.0, "mean {mean}");
}

#[tokio::test(start_paused = true)]
async fn long_reordering_delays_two_thirds_of_replies_by_200_plus_nested_uniform() {
    const N: usize = 15_000;
    let net = Network::new(0x5eed_0005);
    net.set_long_reordering(true);
    net.add_server("s", echo_server());
    let end = wired_end(&net, "e", "s");
    let outcomes = concurrent_echoes(&end, N, 1).await;
    assert!(
        outcomes.iter().all(|o| o.ok),
        "a reliable network delivers every reply"
    );
    let delays: Vec<Duration> = whole_ms(&outcomes)
        .into_iter()
        .filter(|d| !d.is_zero())
        .collect();
    let share = delays.len() as f64 / N as f64;
    let (min, max, mean) = stats_ms(&delays);
    let below_700 = delays.iter().filter(|d| d.as_millis() < 700).count() as f64;
    let below_700 = below_700 / delays.len() as f64;
    println!(
        "long reordering: {N} calls, delayed share {share:.4}, delays min {min} ms, \
         max {max} ms, mean {mean:.1} ms, share of delays under 700 ms {below_700:.3}"
    );
    // 600/900: standard error 0.004.
    assert!((share - 2.0 / 3.0).abs() < 0.02, "share {share}");
    assert_eq!(min, 200.0);
    assert!((2_000.0..=2_199.0).contains(&max), "max {max}");
    // 200 + U[0, U[0,1999]]: mean 200 + 999.5 / 2 = 699.75; sd about 470, se about 5 ms.
    assert!((mean - 699.75).abs() < 30.0, "mean {mean}");
    // The nested uniform is skewed low: about 0.597 of delays are under 700 ms (a flat
    // 200 + U[0,999] would give 0.5).
    assert!(
        (below_700 - 0.597).abs() < 0.025,
        "share under 700 ms {below_700}"
    );
}
