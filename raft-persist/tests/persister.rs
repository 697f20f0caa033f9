//! The lab Persister's semantics (spec section 2): empty at first, one atomic save, clones
//! share, `copy()` isolates in both directions, sizes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use raft_persist::{Bytes, Persister};

#[test]
fn new_persister_is_empty() {
    let p = Persister::new();
    assert!(p.read_raft_state().is_empty());
    assert!(p.read_snapshot().is_empty());
    assert_eq!((p.raft_state_size(), p.snapshot_size()), (0, 0));
}

#[test]
fn save_replaces_both_and_sizes_follow() {
    let p = Persister::new();
    p.save(
        Bytes::from_static(b"state-1"),
        Bytes::from_static(b"snap-1!"),
    );
    p.save(Bytes::from_static(b"st2"), Bytes::new());
    assert_eq!(&p.read_raft_state()[..], b"st2");
    assert!(
        p.read_snapshot().is_empty(),
        "saving an empty snapshot clears it"
    );
    assert_eq!((p.raft_state_size(), p.snapshot_size()), (3, 0));
    p.save(Bytes::from(vec![1u8; 1000]), Bytes::from(vec![2u8; 12345]));
    assert_eq!((p.raft_state_size(), p.snapshot_size()), (1000, 12345));
}

#[test]
fn clones_share_one_object() {
    let harness = Persister::new();
    let peer = harness.clone();
    peer.save(Bytes::from_static(b"a"), Bytes::from_static(b"b"));
    assert_eq!(
        harness.read_state_and_snapshot(),
        (Bytes::from("a"), Bytes::from("b"))
    );
}

#[test]
fn copy_is_independent_in_both_directions() {
    let original = Persister::new();
    original.save(Bytes::from_static(b"before"), Bytes::from_static(b"snap"));
    let copy = original.copy();
    assert_eq!(&copy.read_raft_state()[..], b"before");
    assert_eq!(&copy.read_snapshot()[..], b"snap");

    original.save(Bytes::from_static(b"zombie"), Bytes::from_static(b"zsnap"));
    assert_eq!(
        &copy.read_raft_state()[..],
        b"before",
        "original's save not seen by copy"
    );
    assert_eq!(&copy.read_snapshot()[..], b"snap");

    copy.save(Bytes::from_static(b"restarted"), Bytes::new());
    assert_eq!(
        &original.read_raft_state()[..],
        b"zombie",
        "copy's save not seen by original"
    );
    assert_eq!(&original.read_snapshot()[..], b"zsnap");

    let copy_clone = copy.clone();
    copy_clone.save(Bytes::from_static(b"x"), Bytes::new());
    assert_eq!(
        &copy.read_raft_state()[..],
        b"x",
        "a copy's clones share the copy"
    );
}

#[test]
fn reads_are_unaffected_by_later_saves() {
    let p = Persister::new();
    p.save(Bytes::from_static(b"one"), Bytes::from_static(b"uno"));
    let (state, snap) = p.read_state_and_snapshot();
    p.save(Bytes::from_static(b"two"), Bytes::from_static(b"dos"));
    assert_eq!((&state[..], &snap[..]), (&b"one"[..], &b"uno"[..]));
}

#[test]
fn save_is_atomic_readers_never_see_a_mixed_pair() {
    let p = Persister::new();
    p.save(Bytes::from(vec![0u8; 8]), Bytes::from(vec![0u8; 8]));
    let stop = Arc::new(AtomicBool::new(false));
    // Readers and writers start together, and each reader reads at least once after the
    // start: on a loaded machine the writers could otherwise be done before a reader ran.
    let start = Arc::new(std::sync::Barrier::new(4));
    let writers: Vec<_> = (1..=2u8)
        .map(|w| {
            let p = p.clone();
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                for i in 0..20_000u32 {
                    // Both halves carry the same tag, and their lengths match too.
                    let tag = ((i % 250) as u8).wrapping_add(w);
                    let len = 8 + (i % 7) as usize;
                    p.save(Bytes::from(vec![tag; len]), Bytes::from(vec![tag; len]));
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let p = p.clone();
            let stop = Arc::clone(&stop);
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                let mut reads = 0u64;
                loop {
                    let (state, snap) = p.read_state_and_snapshot();
                    assert_eq!(state, snap, "a pair from two different saves");
                    reads += 1;
                    if stop.load(Ordering::SeqCst) {
                        return reads;
                    }
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    let reads: u64 = readers.into_iter().map(|r| r.join().unwrap()).sum();
    assert!(reads > 0);
}

#[test]
fn a_state_saved_in_parts_reads_back_joined_and_copies_isolate_it() {
    let p = Persister::new();
    let parts = vec![
        Bytes::from_static(b"head"),
        Bytes::new(),
        Bytes::from_static(b"-middle-"),
        Bytes::from(vec![b'z'; 3]),
    ];
    p.save_parts(parts, Bytes::from_static(b"snap"));
    assert_eq!(p.raft_state_size(), 15);
    let copy = p.copy();
    assert_eq!(&p.read_raft_state()[..], b"head-middle-zzz");
    // A second read gives the same bytes (the joined form is kept).
    assert_eq!(&p.read_raft_state()[..], b"head-middle-zzz");
    assert_eq!(
        copy.read_state_and_snapshot(),
        (Bytes::from("head-middle-zzz"), Bytes::from("snap"))
    );
    // A later save of either kind replaces the parts entirely.
    p.save(Bytes::from_static(b"whole"), Bytes::new());
    assert_eq!(
        (&p.read_raft_state()[..], p.raft_state_size()),
        (&b"whole"[..], 5)
    );
    p.save_parts(Vec::new(), Bytes::new());
    assert!(p.read_raft_state().is_empty());
    assert_eq!(p.raft_state_size(), 0);
    assert_eq!(&copy.read_raft_state()[..], b"head-middle-zzz");
}
