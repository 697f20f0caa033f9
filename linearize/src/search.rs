//! The search for one part of a history: Wing & Gong's algorithm as refined by Lowe
//! ("Testing for linearizability", 2017), the form Porcupine uses, with three prunings of
//! our own.
//!
//! The calls and returns of the part's operations form one doubly linked list in time order
//! (a call before a return at equal times: intervals are closed). The calls before the first
//! return in the list are the operations that may come next: none of the remaining ones had
//! returned when they were called. At each node of the search (a prefix of a linearization:
//! a set of placed operations and the state they lead to) the search tries those candidates
//! one by one (one *step* each: a call of [`Model::step`]); if the model allows one and the
//! pair (placed set, new state) has not been explored before, its call and return are lifted
//! out of the list and the search goes one level down. When a node's candidates are used up,
//! its last placement is undone and the parent tries its next candidate. The list empties
//! exactly when every operation has been placed (linearizable); undoing from the root means
//! no order works (not linearizable).
//!
//! Candidates are tried in list order: by call, but earliest return first among calls with
//! no return between them (which become candidates together). Any order is complete; on the
//! corpus, trying all candidates earliest return first helped some parts and hurt others
//! threefold, so the classic order stays.
//!
//! *Reads.* A read ([`Model::is_read_only`]: an operation that never changes the state; a
//! Get, a Put refused for its version) is placed as soon as it is legal, for good. If some
//! order of the remaining operations works after the current prefix, moving the read to the
//! front of it still works: it may come first (it is a candidate, so none of the remaining
//! operations had returned when it was called), it is legal there, and taking it out of its
//! old place changes no state. So when the search has to undo such a read, the node it was
//! placed at leads nowhere either and is undone too; and if the pair a read leads to was
//! explored already, so was its node. Each node tries its reads first, then the rest. On
//! read-heavy key/value histories this cuts most of the search. (An operation that merely
//! happens to leave this state unchanged, such as writing the value already there, is no
//! read: moving it would change what the states after its old place were.)
//!
//! *Reads refused for good.* When the model refuses a read from the current state, it may
//! also say the read stays refused ([`Model::stays_refused`]: a Get of "x 1 y x 2 y" from a
//! value that is not a prefix of it, when values only grow by Append) until one of the
//! operations it names ([`Model::may_reenable`]: a Put of a prefix of that value) is placed.
//! If all of those are placed already, no order of the remaining operations can place the
//! read, which every linearization must, so the node leads nowhere and is undone at once
//! (and with it, as above, a node whose forced read opened it). Without this, a wrong order
//! of long-pending appends is refuted only when the return of a read that it contradicts
//! comes first in the list, after every order of the other pending appends was tried. The
//! search asks only about candidate reads, which each node tries anyway, so it costs one
//! call per refusal and, the first time, one scan of the part for the re-enabling
//! operations.
//!
//! The cache of explored pairs holds each set of placed operations as a bitset in one arena,
//! the states beside it (the search refers to states by index, so none is cloned), and a
//! table of indices probed by a hash that combines a Zobrist hash of the bitset (kept up to
//! date as bits flip) with the state's hash (`FxHasher`, no seed). The hash decides nothing
//! but speed: the verdict and every count are the same with any hash function.

use std::hash::{Hash, Hasher};

use hashbrown::HashTable;
use rustc_hash::FxHasher;

use crate::history::Operation;
use crate::model::{Model, Next};

const NONE: u32 = u32::MAX;
const HEAD: u32 = 0;

/// Which operations a search ignores real time for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Relax {
    /// None: a linearizability check.
    Nothing,
    /// The reads ([`Model::is_read_only`]): may each read have seen a state the other
    /// operations could have produced, in an order that respects their real time?
    Reads,
}

/// How a search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Every operation was placed.
    Linearizable,
    /// No order works.
    Illegal,
    /// The step budget ran out first.
    OutOfBudget,
}

/// What a search found, in the indices of the operations it was given.
#[derive(Debug)]
pub(crate) struct Found<S> {
    pub outcome: Outcome,
    /// Calls of `Model::step` made.
    pub steps: u64,
    /// (placed set, state) pairs cached.
    pub states: u64,
    /// The whole order (linearizable), or the longest prefix placed (otherwise): the first
    /// prefix of that length the search reached.
    pub order: Vec<usize>,
    /// The state after `order`.
    pub state: S,
    /// The operation whose return the search reached right after placing `order`: it had to
    /// come next and could not; or a read that the model showed can never be placed after
    /// `order` ([`Model::stays_refused`]). None for a linearizable part, or when the budget
    /// ran out first.
    pub stuck: Option<usize>,
}

/// A frame of the placement stack.
struct Frame {
    /// The call entry placed.
    entry: u32,
    /// The state before it (an index into the cache).
    before: u32,
    /// Where this frame's untried alternative states start on the alternatives stack.
    alts_from: usize,
    /// A read placed as soon as it was legal (see the module documentation): undoing it
    /// undoes the node it was placed at too.
    forced: bool,
}

/// A node of the search: its candidates and how far it has tried them.
struct Node {
    /// Its candidates (call entries, in list order) are `cands[start..end]`.
    start: u32,
    end: u32,
    /// The next candidate to try.
    pos: u32,
    /// Whether it is still in its reads pass.
    reads: bool,
    /// The first return entry in the list (bounds the candidates).
    first_return: u32,
}

/// What one attempt to place an operation did.
enum Attempt {
    /// Placed it.
    Placed,
    /// The model refused it, or the pair it leads to was explored already.
    Refused,
    /// The current node leads nowhere: it is a read whose pair was explored already, or
    /// a read refused for good ([`Model::stays_refused`]).
    DeadEnd,
}

/// The list of calls and returns (a sentinel head at index 0).
struct Entries {
    next: Vec<u32>,
    prev: Vec<u32>,
    /// The operation of each entry.
    op: Vec<u32>,
    /// For a call, its return; `NONE` for a return.
    ret_of: Vec<u32>,
}

impl Entries {
    /// The list of `ops`' calls and returns; the operations marked `timeless` as if called
    /// at 0 and never returned (real time ignored for them).
    fn new<I, O>(ops: &[&Operation<I, O>], timeless: &[bool]) -> Self {
        // (time, 0 for a call / 1 for a return, operation): a call sorts before a return at
        // equal times; a missing return is at infinity.
        let mut events: Vec<(u64, u8, u32)> = Vec::with_capacity(2 * ops.len());
        for (i, op) in ops.iter().enumerate() {
            let i = i as u32;
            let (call, ret) = if timeless[i as usize] {
                (0, None)
            } else {
                (op.call, op.ret)
            };
            events.push((call, 0, i));
            events.push((ret.unwrap_or(u64::MAX), 1, i));
        }
        events.sort_unstable();
        // Within a run of calls with no return between them (all become placeable at the
        // same moment), try the earliest deadline first.
        let mut k = 0;
        while k < events.len() {
            let run = events[k..].iter().take_while(|e| e.1 == 0).count();
            events[k..k + run].sort_by_key(|&(_, _, i)| {
                (
                    ops[i as usize]
                        .ret
                        .filter(|_| !timeless[i as usize])
                        .unwrap_or(u64::MAX),
                    i,
                )
            });
            k += run.max(1);
        }
        let len = events.len() + 1;
        let mut entries = Entries {
            next: (1..=len as u32).collect(),
            prev: (0..len as u32).map(|i| i.wrapping_sub(1)).collect(),
            op: vec![NONE; len],
            ret_of: vec![NONE; len],
        };
        entries.next[len - 1] = NONE;
        entries.prev[0] = NONE;
        let mut call_entry = vec![NONE; ops.len()];
        for (k, &(_, kind, i)) in events.iter().enumerate() {
            let e = k as u32 + 1;
            entries.op[e as usize] = i;
            if kind == 0 {
                call_entry[i as usize] = e;
            } else {
                entries.ret_of[call_entry[i as usize] as usize] = e;
            }
        }
        entries
    }

    fn unlink(&mut self, e: u32) {
        let (p, n) = (self.prev[e as usize], self.next[e as usize]);
        self.next[p as usize] = n;
        if n != NONE {
            self.prev[n as usize] = p;
        }
    }

    fn relink(&mut self, e: u32) {
        let (p, n) = (self.prev[e as usize], self.next[e as usize]);
        self.next[p as usize] = e;
        if n != NONE {
            self.prev[n as usize] = e;
        }
    }

    /// Takes a call and its return out of the list.
    fn lift(&mut self, call: u32) {
        self.unlink(call);
        self.unlink(self.ret_of[call as usize]);
    }

    /// Puts back what `lift(call)` took out (the last lifted pair first).
    fn unlift(&mut self, call: u32) {
        self.relink(self.ret_of[call as usize]);
        self.relink(call);
    }
}

/// The explored (placed set, state) pairs. Every state the search stands on lives here
/// once; the search refers to states by their index.
struct Cache<S> {
    words: usize,
    bits: Vec<u64>,
    states: Vec<S>,
    table: HashTable<(u64, u32)>,
}

impl<S: Eq + Hash> Cache<S> {
    /// Adds the pair unless it is there: its index if it was new, the state back if not.
    fn insert(&mut self, zobrist: u64, bits: &[u64], state: S) -> Result<u32, S> {
        let mut hasher = FxHasher::default();
        hasher.write_u64(zobrist);
        state.hash(&mut hasher);
        let hash = hasher.finish();
        let words = self.words;
        let (arena, states) = (&self.bits, &self.states);
        let eq = |&(h, idx): &(u64, u32)| {
            let idx = idx as usize;
            h == hash && arena[idx * words..(idx + 1) * words] == *bits && states[idx] == state
        };
        match self.table.entry(hash, eq, |&(h, _)| h) {
            hashbrown::hash_table::Entry::Occupied(_) => Err(state),
            hashbrown::hash_table::Entry::Vacant(vacant) => {
                let idx = self.states.len() as u32;
                vacant.insert((hash, idx));
                self.bits.extend_from_slice(bits);
                self.states.push(state);
                Ok(idx)
            }
        }
    }
}

/// A fixed pseudo-random word per operation (SplitMix64 from a constant seed).
fn zobrist_keys(n: usize) -> Vec<u64> {
    let mut x: u64 = 0x6a09_e667_f3bc_c909;
    (0..n)
        .map(|_| {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        })
        .collect()
}

/// The search's mutable state.
struct Search<'a, M: Model> {
    model: &'a M,
    ops: Vec<&'a Operation<M::Input, M::Output>>,
    entries: Entries,
    cache: Cache<M::State>,
    zobrist: Vec<u64>,
    /// The placed set and its Zobrist hash.
    bits: Vec<u64>,
    hash: u64,
    /// The current state (an index into the cache).
    state: u32,
    stack: Vec<Frame>,
    /// The open nodes, root first: one more than the frames.
    nodes: Vec<Node>,
    /// The candidates of the open nodes.
    cands: Vec<u32>,
    /// Scratch space for the calls a placement exposes.
    fresh: Vec<u32>,
    alts: Vec<M::State>,
    steps: u64,
    longest: Vec<usize>,
    /// How many frames of `stack`, from the bottom, are `longest`'s operations: a new longest
    /// prefix copies only the frames above them (a copy of the whole stack at every new depth
    /// was quadratic in the part's length).
    longest_agrees: usize,
    longest_state: u32,
    stuck: Option<usize>,
    /// Which operations the model says are reads ([`Model::is_read_only`]).
    read_hint: Vec<bool>,
    /// For each read, once asked: the operations that may make it legal again after the
    /// model said it stays refused ([`Model::may_reenable`]).
    reenablers: Vec<Option<Box<[u32]>>>,
}

impl<M: Model> Search<'_, M> {
    fn flip(&mut self, op: usize) {
        self.bits[op / 64] ^= 1 << (op % 64);
        self.hash ^= self.zobrist[op];
    }

    /// Enters the pair (placed set with `op`, `next`) in the cache if it is new, and returns
    /// its state's index (with `op` flipped into the placed set); gives `next` back if not.
    fn try_place(&mut self, op: usize, next: M::State) -> Result<u32, M::State> {
        self.flip(op);
        let placed = self.cache.insert(self.hash, &self.bits, next);
        if placed.is_err() {
            self.flip(op);
        }
        placed
    }

    /// Opens a node below the current one, after call entry `placed` was lifted (or the
    /// root, with `placed == NONE`): its candidates are the parent's but `placed`, merged
    /// with the calls that lifting `placed` exposed.
    fn open_node(&mut self, placed: u32) {
        let start = self.cands.len();
        let entries = &self.entries;
        // The calls exposed: those after the parent's first return (all, at the root).
        let boundary = self.nodes.last().map_or(0, |n| n.first_return);
        let mut fresh = std::mem::take(&mut self.fresh);
        fresh.clear();
        let mut e = entries.next[HEAD as usize];
        while e != NONE && entries.ret_of[e as usize] != NONE {
            if e > boundary {
                fresh.push(e);
            }
            e = entries.next[e as usize];
        }
        let first_return = e;
        fresh.sort_unstable();
        let mut new = fresh.iter().copied().peekable();
        if let Some(parent) = self.nodes.last() {
            for k in parent.start..parent.end {
                let c = self.cands[k as usize];
                if c == placed {
                    continue;
                }
                while let Some(f) = new.next_if(|&f| f < c) {
                    self.cands.push(f);
                }
                self.cands.push(c);
            }
        }
        self.cands.extend(new);
        self.fresh = fresh;
        let end = self.cands.len() as u32;
        self.nodes.push(Node {
            start: start as u32,
            end,
            pos: start as u32,
            reads: true,
            first_return,
        });
    }

    /// Records a placement already flipped into `bits` and entered in the cache, and opens
    /// the node it leads to.
    fn push(&mut self, entry: u32, next: u32, alts_from: usize, forced: bool) {
        let before = std::mem::replace(&mut self.state, next);
        self.stack.push(Frame {
            entry,
            before,
            alts_from,
            forced,
        });
        self.entries.lift(entry);
        self.open_node(entry);
        if self.stack.len() > self.longest.len() {
            let agrees = self.longest_agrees;
            self.longest.truncate(agrees);
            let ops = &self.entries.op;
            self.longest.extend(
                self.stack[agrees..]
                    .iter()
                    .map(|f| ops[f.entry as usize] as usize),
            );
            self.longest_agrees = self.stack.len();
            self.longest_state = self.state;
            self.stuck = None;
        }
    }

    /// Tries the call entry `entry` (one step) at the current node; an operation the model
    /// calls a read (`read`) that leaves the state as it is is placed for good.
    fn attempt(&mut self, entry: u32, read: bool) -> Attempt {
        let op = self.entries.op[entry as usize] as usize;
        let operation = self.ops[op];
        let state = &self.cache.states[self.state as usize];
        let next = self.model.step(state, &operation.input, &operation.output);
        if matches!(next, Next::Illegal) {
            if read && self.refused_for_good(op) {
                // No order of the rest can place it: the node leads nowhere.
                if self.stuck.is_none() && self.stack.len() == self.longest.len() {
                    self.stuck = Some(op);
                }
                return Attempt::DeadEnd;
            }
            return Attempt::Refused;
        }
        let state = &self.cache.states[self.state as usize];
        let nexts = match next {
            Next::Illegal => return Attempt::Refused,
            Next::One(next) if read && next == *state => {
                return match self.try_place(op, next) {
                    Ok(next) => {
                        let from = self.alts.len();
                        self.push(entry, next, from, true);
                        Attempt::Placed
                    }
                    Err(_) => Attempt::DeadEnd,
                };
            }
            Next::One(next) => {
                debug_assert!(
                    !read,
                    "the model calls {:?} a read, but it changed the state",
                    operation.input
                );
                return match self.try_place(op, next) {
                    Ok(next) => {
                        let from = self.alts.len();
                        self.push(entry, next, from, false);
                        Attempt::Placed
                    }
                    Err(_) => Attempt::Refused,
                };
            }
            Next::Many(nexts) => nexts,
        };
        debug_assert!(
            !read,
            "the model calls {:?} a read, but it changed the state",
            operation.input
        );
        let from = self.alts.len();
        let mut nexts = nexts.into_iter();
        while let Some(next) = nexts.next() {
            if let Ok(next) = self.try_place(op, next) {
                // The untried ones, to be popped in order.
                self.alts.extend(nexts.rev());
                self.push(entry, next, from, false);
                return Attempt::Placed;
            }
        }
        Attempt::Refused
    }

    /// Whether the read `op`, just refused from the current state, can never be placed
    /// after the current prefix: the model says it stays refused ([`Model::stays_refused`])
    /// and every operation that may make it legal again is placed already.
    fn refused_for_good(&mut self, op: usize) -> bool {
        let operation = self.ops[op];
        let state = &self.cache.states[self.state as usize];
        if !self
            .model
            .stays_refused(state, &operation.input, &operation.output)
        {
            return false;
        }
        if self.reenablers[op].is_none() {
            let list = self.reenablers_of(op).collect();
            self.reenablers[op] = Some(list);
        }
        let bits = &self.bits;
        self.reenablers[op]
            .as_deref()
            .unwrap_or_default()
            .iter()
            .all(|&w| bits[w as usize / 64] & (1 << (w % 64)) != 0)
    }

    /// The operations that may make the read `op` legal again ([`Model::may_reenable`]).
    fn reenablers_of(&self, op: usize) -> impl Iterator<Item = u32> + '_ {
        let read = self.ops[op];
        (0..self.ops.len()).filter_map(move |w| {
            let write = self.ops[w];
            (!self.read_hint[w]
                && self
                    .model
                    .may_reenable(&write.input, &write.output, &read.input, &read.output))
            .then_some(w as u32)
        })
    }

    /// The current node leads nowhere: undoes the placement that opened it and moves its
    /// parent on (to the placement's next alternative state, or its next candidate); a read
    /// placed as forced takes its node along. False if the root leads nowhere.
    fn backtrack(&mut self) -> bool {
        loop {
            let Some(frame) = self.stack.pop() else {
                return false;
            };
            self.longest_agrees = self.longest_agrees.min(self.stack.len());
            if let Some(node) = self.nodes.pop() {
                self.cands.truncate(node.start as usize);
            }
            let op = self.entries.op[frame.entry as usize] as usize;
            self.state = frame.before;
            self.flip(op);
            self.entries.unlift(frame.entry);
            if frame.forced {
                continue;
            }
            while self.alts.len() > frame.alts_from {
                let Some(next) = self.alts.pop() else { break };
                if let Ok(next) = self.try_place(op, next) {
                    self.push(frame.entry, next, frame.alts_from, false);
                    return true;
                }
            }
            if let Some(parent) = self.nodes.last_mut() {
                parent.pos += 1;
            }
            return true;
        }
    }
}

/// The search of one part, resumable: [`PartSearch::resume`] runs it up to a number of
/// steps, so that several parts can be advanced in deterministic rounds.
pub(crate) struct PartSearch<'a, M: Model> {
    s: Search<'a, M>,
    /// How it ended, once it has.
    outcome: Option<Outcome>,
}

impl<'a, M: Model> PartSearch<'a, M> {
    /// A search for a linearization of `ops` (one part of a history), real time ignored for
    /// the operations `relax` picks.
    pub(crate) fn new(
        model: &'a M,
        ops: Vec<&'a Operation<M::Input, M::Output>>,
        relax: Relax,
    ) -> Self {
        let n = ops.len();
        let words = n.div_ceil(64).max(1);
        let timeless: Vec<bool> = ops
            .iter()
            .map(|op| match relax {
                Relax::Nothing => false,
                Relax::Reads => model.is_read_only(&op.input, &op.output),
            })
            .collect();
        let entries = Entries::new(&ops, &timeless);
        // Room for the pairs of one path through the part (a linearizable part caches at
        // least that many), so the arena is not copied at every doubling on the way.
        let mut cache = Cache {
            words,
            bits: Vec::with_capacity((n + 1) * words),
            states: Vec::with_capacity(n + 1),
            table: HashTable::with_capacity(n + 1),
        };
        let bits = vec![0; words];
        // The start: nothing placed, the initial state (index 0).
        let state = cache.insert(0, &bits, model.init()).unwrap_or(0);
        let mut s = Search {
            model,
            read_hint: ops
                .iter()
                .map(|op| model.is_read_only(&op.input, &op.output))
                .collect(),
            zobrist: zobrist_keys(ops.len()),
            stack: Vec::with_capacity(ops.len()),
            nodes: Vec::with_capacity(ops.len() + 1),
            cands: Vec::new(),
            fresh: Vec::new(),
            ops,
            entries,
            cache,
            bits,
            hash: 0,
            state,
            alts: Vec::new(),
            steps: 0,
            longest: Vec::new(),
            longest_agrees: 0,
            longest_state: state,
            stuck: None,
            reenablers: vec![None; n],
        };
        s.open_node(NONE);
        PartSearch { s, outcome: None }
    }

    /// How the search ended, if it has.
    pub(crate) fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    /// Runs the search until it ends or has spent `limit` steps in all; returns how it
    /// ended, or `None` if it reached the limit first.
    pub(crate) fn resume(&mut self, limit: u64) -> Option<Outcome> {
        if self.outcome.is_none() {
            self.outcome = run(&mut self.s, limit);
        }
        self.outcome
    }

    /// What it found; a search that has not ended counts as having run out of budget.
    pub(crate) fn found(self) -> Found<M::State> {
        let mut s = self.s;
        let outcome = self.outcome.unwrap_or(Outcome::OutOfBudget);
        let states = s.cache.states.len() as u64;
        if outcome == Outcome::Linearizable {
            let order: Vec<usize> = s
                .stack
                .iter()
                .map(|f| s.entries.op[f.entry as usize] as usize)
                .collect();
            let state = s.cache.states.swap_remove(s.state as usize);
            return Found {
                outcome,
                steps: s.steps,
                states,
                order,
                state,
                stuck: None,
            };
        }
        let state = s.cache.states.swap_remove(s.longest_state as usize);
        Found {
            outcome,
            steps: s.steps,
            states,
            order: s.longest,
            state,
            stuck: s.stuck,
        }
    }
}

/// Runs the search until it ends (`Some`) or `steps` reaches `limit`.
fn run<M: Model>(s: &mut Search<'_, M>, limit: u64) -> Option<Outcome> {
    loop {
        if s.entries.next[HEAD as usize] == NONE {
            return Some(Outcome::Linearizable);
        }
        let Some(node) = s.nodes.last_mut() else {
            return Some(Outcome::Illegal);
        };
        if node.pos == node.end {
            if node.reads {
                // Every read was tried: now every candidate, from the first.
                node.reads = false;
                node.pos = node.start;
                continue;
            }
            // Every candidate was tried: the first return's operation cannot come next.
            if s.stuck.is_none() && s.stack.len() == s.longest.len() {
                s.stuck = Some(s.entries.op[node.first_return as usize] as usize);
            }
            if !s.backtrack() {
                return Some(Outcome::Illegal);
            }
            continue;
        }
        let entry = s.cands[node.pos as usize];
        let read = s.read_hint[s.entries.op[entry as usize] as usize];
        if read != node.reads {
            // Not for this pass.
            node.pos += 1;
            continue;
        }
        if s.steps >= limit {
            return None;
        }
        s.steps += 1;
        match s.attempt(entry, read) {
            Attempt::Placed => {}
            Attempt::Refused => {
                if let Some(node) = s.nodes.last_mut() {
                    node.pos += 1;
                }
            }
            Attempt::DeadEnd => {
                if !s.backtrack() {
                    return Some(Outcome::Illegal);
                }
            }
        }
    }
}
