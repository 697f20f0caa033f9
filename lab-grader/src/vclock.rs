//! The runtime's clock as the grader reads it, read from tokio at most once per turn of a
//! virtual-time runtime (issue 28).
//!
//! A paused tokio clock moves only while its runtime parks (auto-advance, when no task can
//! run): between two parks every read gives the same instant. Each read through
//! `tokio::time::Instant::now` costs a reference count of the runtime's handle and the
//! clock's mutex, and the grader reads it for every event it records and every look at a
//! peer (4-5 % of a stress run). So on the thread that drives a virtual-time runtime the
//! first read after a park is kept, and the runtime's unpark hook forgets it. Anywhere else
//! (real time, other threads, outside a runtime) a read is tokio's own.

use std::cell::Cell;

use tokio::time::Instant;

thread_local! {
    /// Whether this thread drives a virtual-time runtime now (see [`driving`]).
    static DRIVING: Cell<bool> = const { Cell::new(false) };
    /// The runtime's clock as first read since it last parked, while [`DRIVING`].
    static KEPT: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The runtime's current instant (`tokio::time::Instant::now()`, the same value).
pub(crate) fn now() -> Instant {
    if !DRIVING.with(Cell::get) {
        return Instant::now();
    }
    let now = KEPT.with(|k| match k.get() {
        Some(t) => t,
        None => {
            let t = Instant::now();
            k.set(Some(t));
            t
        }
    });
    debug_assert_eq!(now, Instant::now(), "the paused clock moved between parks");
    now
}

/// The kept instant, if the clock was read since the runtime last parked: `Some` only on the
/// thread of a virtual-time runtime, inside it.
pub(crate) fn kept() -> Option<Instant> {
    if !DRIVING.with(Cell::get) {
        return None;
    }
    KEPT.with(Cell::get)
}

/// The runtime unparked (its clock may have moved): the next read asks tokio again.
pub(crate) fn forget() {
    KEPT.with(|k| k.set(None));
}

/// This thread starts (`true`) or stops driving a virtual-time runtime, whose unpark hook
/// calls [`forget`]; nothing is kept across the two.
pub(crate) fn driving(on: bool) {
    forget();
    DRIVING.with(|d| d.set(on));
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{driving, kept, now};

    #[test]
    fn the_kept_instant_follows_the_paused_clock_across_parks() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .on_thread_unpark(super::forget)
            .build()
            .expect("a runtime");
        driving(true);
        rt.block_on(async {
            let t0 = now();
            assert_eq!(kept(), Some(t0));
            assert_eq!(now(), tokio::time::Instant::now());
            // The runtime parks and its clock moves 7 ms: the kept instant is forgotten.
            tokio::time::sleep(Duration::from_millis(7)).await;
            assert_eq!(kept(), None);
            let t1 = now();
            assert_eq!(t1, tokio::time::Instant::now());
            assert_eq!(t1 - t0, Duration::from_millis(7));
            // A task that wakes at the same instant does not move the clock.
            tokio::spawn(async {}).await.expect("the task");
            assert_eq!(now(), tokio::time::Instant::now());
        });
        driving(false);
        assert_eq!(kept(), None);
    }
}
