//! The [`Walk`] state machine: which nodes may run now, given what finished.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use petgraph::Direction;

use crate::dag::{Adjacency, Dag, NodeId};

/// Where a node stands in a [`Walk`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum NodeOutcome {
    /// Waiting for at least one dependency.
    Pending,
    /// Every dependency succeeded; waiting for [`Walk::next_ready`].
    Ready,
    /// Handed out by [`Walk::next_ready`]; awaiting `complete`/`fail`/`skip`.
    Running,
    /// Completed successfully ([`Walk::complete`]).
    Succeeded,
    /// Failed ([`Walk::fail`]).
    Failed,
    /// Will not run: skipped by the caller, or a dependency failed or was
    /// skipped.
    Skipped,
}

impl NodeOutcome {
    /// `Succeeded`, `Failed` or `Skipped`: the node's fate is decided.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Skipped)
    }
}

/// A scheduler-agnostic walk over a [`Dag`] (see the
/// [crate docs](crate#walk-semantics) for the state diagram).
///
/// The walk owns a snapshot of the graph's edges, so the `Dag` may be used
/// (or dropped) freely while walking. It does no I/O, spawns nothing and never
/// blocks: the caller pops ready nodes, runs them however it likes (e.g. at
/// most `parallelism` tokio tasks at a time) and reports each result.
///
/// Misuse that a caller could plausibly commit — reporting a node twice,
/// completing a node that never ran, passing an id from another graph — is
/// caught by `debug_assert!` and otherwise ignored; it never corrupts the
/// walk.
#[derive(Clone, Debug)]
pub struct Walk {
    dependents: Adjacency,
    /// Dependencies that have not succeeded yet, per node.
    waiting_on: Vec<u32>,
    outcome: Vec<NodeOutcome>,
    priority: Vec<u64>,
    /// Ready nodes (max-heap by priority, then smaller id). May hold stale
    /// entries for nodes that left `Ready` through `skip`/`complete`/`fail`;
    /// those are discarded when popped.
    heap: BinaryHeap<(u64, Reverse<u32>)>,
    ready: usize,
    running: usize,
}

impl Walk {
    /// Starts a walk over `dag`. `priority` is indexed by [`NodeId::index`]
    /// (typically [`Dag::critical_path`]); higher runs first. Missing entries
    /// count as 0, extra entries are ignored.
    ///
    /// Nodes without dependencies are ready immediately.
    pub fn new<N>(dag: &Dag<N>, priority: Vec<u64>) -> Walk {
        let n = dag.len();
        let dependents = dag.adjacency(Direction::Outgoing);
        let mut waiting_on = vec![0u32; n];
        for v in 0..n {
            for &d in dependents.of(v) {
                waiting_on[d as usize] += 1;
            }
        }
        let mut priority = priority;
        priority.resize(n, 0);
        let mut walk = Walk {
            dependents,
            waiting_on,
            outcome: vec![NodeOutcome::Pending; n],
            priority,
            heap: BinaryHeap::with_capacity(n),
            ready: 0,
            running: 0,
        };
        for v in 0..n {
            if walk.waiting_on[v] == 0 {
                walk.make_ready(v);
            }
        }
        walk
    }

    fn make_ready(&mut self, v: usize) {
        self.outcome[v] = NodeOutcome::Ready;
        self.ready += 1;
        self.heap.push((self.priority[v], Reverse(v as u32)));
    }

    /// Number of nodes in the walk.
    pub fn len(&self) -> usize {
        self.outcome.len()
    }

    /// Whether the walk has no nodes at all.
    pub fn is_empty(&self) -> bool {
        self.outcome.is_empty()
    }

    /// Pops the ready node with the highest priority (ties: smaller
    /// `NodeId`) and marks it [`NodeOutcome::Running`]. `None` if nothing is
    /// ready right now (more may become ready as running nodes complete).
    /// `O(log n)` amortised.
    pub fn next_ready(&mut self) -> Option<NodeId> {
        while let Some((_, Reverse(v))) = self.heap.pop() {
            let v = v as usize;
            if self.outcome[v] == NodeOutcome::Ready {
                self.outcome[v] = NodeOutcome::Running;
                self.ready -= 1;
                self.running += 1;
                return Some(NodeId::from_index(v));
            }
        }
        None
    }

    /// Takes `id` out of `Ready`/`Running` bookkeeping. Returns false (and
    /// debug-asserts) if it was in neither state.
    fn leave_active(&mut self, id: NodeId, what: &str) -> bool {
        let Some(state) = self.outcome.get(id.index()).copied() else {
            debug_assert!(false, "{what}({id:?}): not a node of this walk");
            return false;
        };
        match state {
            NodeOutcome::Running => self.running -= 1,
            // Allowed: the caller settled a node without popping it. Its heap
            // entry goes stale.
            NodeOutcome::Ready => self.ready -= 1,
            other => {
                debug_assert!(false, "{what}({id:?}): node is {other:?}, not running");
                return false;
            }
        }
        true
    }

    /// Reports success. Dependents whose dependencies have now all succeeded
    /// become ready. Expects a `Running` (or `Ready`) node.
    pub fn complete(&mut self, id: NodeId) {
        if !self.leave_active(id, "complete") {
            return;
        }
        let v = id.index();
        self.outcome[v] = NodeOutcome::Succeeded;
        for i in 0..self.dependents.of(v).len() {
            let d = self.dependents.of(v)[i] as usize;
            self.waiting_on[d] -= 1;
            if self.waiting_on[d] == 0 && self.outcome[d] == NodeOutcome::Pending {
                self.make_ready(d);
            }
        }
    }

    /// Reports failure. Every transitive dependent that can therefore no
    /// longer run is marked `Skipped` and returned, sorted; nodes already
    /// skipped earlier are not repeated. Independent branches are
    /// unaffected. Expects a `Running` (or `Ready`) node.
    pub fn fail(&mut self, id: NodeId) -> Vec<NodeId> {
        if !self.leave_active(id, "fail") {
            return Vec::new();
        }
        self.outcome[id.index()] = NodeOutcome::Failed;
        self.skip_dependents_of(vec![id.index()])
    }

    /// Marks a node the caller decides not to run (e.g. after an interrupt)
    /// as `Skipped`, together with every transitive dependent. Accepts a
    /// `Pending`, `Ready` or `Running` node (one just popped from
    /// [`Walk::next_ready`] counts as running). Returns every node newly
    /// skipped, **including `id`**, sorted. A node whose fate is already
    /// decided is left alone (empty result).
    pub fn skip(&mut self, id: NodeId) -> Vec<NodeId> {
        let Some(state) = self.outcome.get(id.index()).copied() else {
            debug_assert!(false, "skip({id:?}): not a node of this walk");
            return Vec::new();
        };
        match state {
            NodeOutcome::Pending => {}
            NodeOutcome::Ready => self.ready -= 1,
            NodeOutcome::Running => self.running -= 1,
            NodeOutcome::Succeeded | NodeOutcome::Failed | NodeOutcome::Skipped => {
                return Vec::new();
            }
        }
        self.outcome[id.index()] = NodeOutcome::Skipped;
        let mut skipped = self.skip_dependents_of(vec![id.index()]);
        let pos = skipped.binary_search(&id).unwrap_err();
        skipped.insert(pos, id);
        skipped
    }

    /// Skips every node that has not started (`Pending` or `Ready`), e.g.
    /// when the run is interrupted. Running nodes are untouched and should
    /// still be reported; completing them makes nothing ready. Returns the
    /// newly skipped nodes, sorted.
    pub fn skip_remaining(&mut self) -> Vec<NodeId> {
        let mut skipped = Vec::new();
        for (v, state) in self.outcome.iter_mut().enumerate() {
            if matches!(state, NodeOutcome::Pending | NodeOutcome::Ready) {
                *state = NodeOutcome::Skipped;
                skipped.push(NodeId::from_index(v));
            }
        }
        self.ready = 0;
        self.heap.clear();
        skipped
    }

    /// Marks every not-yet-decided transitive dependent of `roots` skipped.
    fn skip_dependents_of(&mut self, mut stack: Vec<usize>) -> Vec<NodeId> {
        let mut skipped = Vec::new();
        while let Some(v) = stack.pop() {
            for &d in self.dependents.of(v) {
                let d = d as usize;
                // A dependent of a node that did not succeed cannot be Ready
                // or Running; anything already Skipped had its own dependents
                // handled when it was skipped.
                if self.outcome[d] == NodeOutcome::Pending {
                    self.outcome[d] = NodeOutcome::Skipped;
                    skipped.push(NodeId::from_index(d));
                    stack.push(d);
                }
            }
        }
        skipped.sort_unstable();
        skipped
    }

    /// True when nothing is ready and nothing is running. On an acyclic
    /// graph every node's outcome is then terminal; nodes on a cycle stay
    /// `Pending` forever.
    pub fn is_finished(&self) -> bool {
        self.ready == 0 && self.running == 0
    }

    /// Nodes handed out by [`Walk::next_ready`] and not yet reported.
    pub fn running(&self) -> usize {
        self.running
    }

    /// Nodes ready to be handed out.
    pub fn ready_len(&self) -> usize {
        self.ready
    }

    /// The node's current state.
    ///
    /// # Panics
    /// If `id` is not a node of the walked graph.
    pub fn outcome(&self, id: NodeId) -> NodeOutcome {
        match self.outcome.get(id.index()) {
            Some(&o) => o,
            None => panic!("{id:?} is not in this walk ({} nodes)", self.len()),
        }
    }

    /// All nodes currently in state `outcome`, sorted (e.g. every failure
    /// for the final report).
    pub fn nodes_with(&self, outcome: NodeOutcome) -> Vec<NodeId> {
        self.outcome
            .iter()
            .enumerate()
            .filter(|&(_, &o)| o == outcome)
            .map(|(v, _)| NodeId::from_index(v))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use NodeOutcome::*;

    fn graph(n: usize, edges: &[(usize, usize)]) -> (Dag<usize>, Vec<NodeId>) {
        let mut dag = Dag::new();
        let ids: Vec<NodeId> = (0..n).map(|i| dag.add_node(i)).collect();
        for &(a, b) in edges {
            dag.add_edge(ids[a], ids[b]);
        }
        (dag, ids)
    }

    fn drain_ready(walk: &mut Walk) -> Vec<usize> {
        std::iter::from_fn(|| walk.next_ready())
            .map(NodeId::index)
            .collect()
    }

    #[test]
    fn empty_walk_is_finished() {
        let (dag, _) = graph(0, &[]);
        let mut walk = Walk::new(&dag, vec![]);
        assert!(walk.is_finished());
        assert!(walk.is_empty());
        assert_eq!(walk.next_ready(), None);
    }

    #[test]
    fn chain_runs_in_order() {
        let (dag, n) = graph(3, &[(0, 1), (1, 2)]);
        let mut walk = Walk::new(&dag, vec![]);
        assert_eq!(walk.len(), 3);
        assert_eq!((walk.outcome(n[0]), walk.outcome(n[1])), (Ready, Pending));
        assert_eq!(walk.ready_len(), 1);
        for &id in &n {
            assert_eq!(walk.next_ready(), Some(id));
            assert_eq!(walk.outcome(id), Running);
            assert_eq!((walk.running(), walk.ready_len()), (1, 0));
            assert_eq!(walk.next_ready(), None);
            assert!(!walk.is_finished());
            walk.complete(id);
            assert_eq!(walk.outcome(id), Succeeded);
        }
        assert!(walk.is_finished());
        assert_eq!(walk.nodes_with(Succeeded), n);
    }

    #[test]
    fn diamond_waits_for_all_dependencies() {
        let (dag, n) = graph(4, &[(0, 1), (0, 2), (1, 3), (2, 3)]);
        let mut walk = Walk::new(&dag, vec![]);
        assert_eq!(walk.next_ready(), Some(n[0]));
        walk.complete(n[0]);
        assert_eq!(drain_ready(&mut walk), vec![1, 2]);
        walk.complete(n[1]);
        assert_eq!(walk.outcome(n[3]), Pending);
        assert_eq!(walk.next_ready(), None);
        walk.complete(n[2]);
        assert_eq!(walk.outcome(n[3]), Ready);
        assert_eq!(walk.next_ready(), Some(n[3]));
        walk.complete(n[3]);
        assert!(walk.is_finished());
    }

    #[test]
    fn failure_skips_only_dependents() {
        // 0 -> 1 -> 2, 0 -> 3 ; independent branch 4 -> 5 ; 1 -> 6 <- 4
        let (dag, n) = graph(7, &[(0, 1), (1, 2), (0, 3), (4, 5), (1, 6), (4, 6)]);
        let mut walk = Walk::new(&dag, vec![]);
        assert_eq!(drain_ready(&mut walk), vec![0, 4]);
        walk.complete(n[0]);
        assert_eq!(drain_ready(&mut walk), vec![1, 3]);
        assert_eq!(walk.fail(n[1]), vec![n[2], n[6]]);
        assert_eq!(walk.outcome(n[1]), Failed);
        assert_eq!(walk.outcome(n[6]), Skipped);
        walk.complete(n[4]); // 6 stays skipped though 4 succeeded
        assert_eq!(walk.outcome(n[6]), Skipped);
        assert_eq!(drain_ready(&mut walk), vec![5]);
        walk.complete(n[3]);
        walk.complete(n[5]);
        assert!(walk.is_finished());
        assert_eq!(walk.nodes_with(Succeeded), vec![n[0], n[3], n[4], n[5]]);
        assert_eq!(walk.nodes_with(Failed), vec![n[1]]);
        assert_eq!(walk.nodes_with(Skipped), vec![n[2], n[6]]);
    }

    #[test]
    fn second_failure_does_not_repeat_skips() {
        // 0 -> 2, 1 -> 2, 2 -> 3
        let (dag, n) = graph(4, &[(0, 2), (1, 2), (2, 3)]);
        let mut walk = Walk::new(&dag, vec![]);
        assert_eq!(drain_ready(&mut walk), vec![0, 1]);
        assert_eq!(walk.fail(n[0]), vec![n[2], n[3]]);
        assert_eq!(walk.fail(n[1]), vec![]);
        assert!(walk.is_finished());
    }

    #[test]
    fn priority_order_honoured() {
        let (dag, n) = graph(5, &[]);
        let mut walk = Walk::new(&dag, vec![3, 9, 3, 0, 9]);
        assert_eq!(drain_ready(&mut walk), vec![1, 4, 0, 2, 3]);
        for id in n {
            walk.complete(id);
        }
        assert!(walk.is_finished());
    }

    #[test]
    fn critical_path_priority_starts_longest_chain_first() {
        // short: 0 ; long: 1 -> 2 -> 3
        let (dag, _) = graph(4, &[(1, 2), (2, 3)]);
        let mut walk = Walk::new(&dag, dag.critical_path(|_| 1));
        assert_eq!(walk.next_ready().map(NodeId::index), Some(1));
    }

    #[test]
    fn short_or_long_priority_vectors_are_tolerated() {
        let (dag, _) = graph(3, &[]);
        let mut walk = Walk::new(&dag, vec![0, 5]);
        assert_eq!(drain_ready(&mut walk), vec![1, 0, 2]);
        let mut walk = Walk::new(&dag, vec![1, 2, 3, 4, 5]);
        assert_eq!(drain_ready(&mut walk), vec![2, 1, 0]);
    }

    #[test]
    fn skip_running_and_ready_nodes() {
        // 0 -> 1 ; 2 -> 3 ; 4
        let (dag, n) = graph(5, &[(0, 1), (2, 3)]);
        let mut walk = Walk::new(&dag, vec![]);
        assert_eq!(walk.ready_len(), 3);
        // popped, then the caller decides not to run it
        assert_eq!(walk.next_ready(), Some(n[0]));
        assert_eq!(walk.skip(n[0]), vec![n[0], n[1]]);
        assert_eq!(walk.running(), 0);
        // skipped while still ready: never handed out
        assert_eq!(walk.skip(n[2]), vec![n[2], n[3]]);
        assert_eq!(walk.ready_len(), 1);
        assert_eq!(walk.skip(n[2]), vec![]); // already skipped: no-op
        assert_eq!(drain_ready(&mut walk), vec![4]);
        walk.complete(n[4]);
        assert!(walk.is_finished());
        assert_eq!(walk.nodes_with(Skipped), vec![n[0], n[1], n[2], n[3]]);
    }

    #[test]
    fn skip_remaining_keeps_running_nodes() {
        // 0 -> 1 ; 2 ; 3
        let (dag, n) = graph(4, &[(0, 1)]);
        let mut walk = Walk::new(&dag, vec![]);
        assert_eq!(walk.next_ready(), Some(n[0]));
        assert_eq!(walk.skip_remaining(), vec![n[1], n[2], n[3]]);
        assert_eq!((walk.ready_len(), walk.running()), (0, 1));
        assert!(!walk.is_finished());
        walk.complete(n[0]);
        assert_eq!(walk.outcome(n[1]), Skipped);
        assert_eq!(walk.next_ready(), None);
        assert!(walk.is_finished());
    }

    #[test]
    fn settling_a_ready_node_without_popping_it() {
        let (dag, n) = graph(3, &[(0, 2)]);
        let mut walk = Walk::new(&dag, vec![]);
        walk.complete(n[0]);
        assert_eq!(walk.outcome(n[2]), Ready);
        assert_eq!(walk.fail(n[1]), vec![]);
        assert_eq!(drain_ready(&mut walk), vec![2]);
        walk.complete(n[2]);
        assert!(walk.is_finished());
    }

    #[test]
    fn cycle_nodes_stay_pending() {
        // 0 -> 1 -> 2 -> 1
        let (dag, n) = graph(3, &[(0, 1), (1, 2), (2, 1)]);
        let mut walk = Walk::new(&dag, vec![]);
        assert_eq!(walk.next_ready(), Some(n[0]));
        walk.complete(n[0]);
        assert!(walk.is_finished());
        assert_eq!(walk.nodes_with(Pending), vec![n[1], n[2]]);
    }

    #[test]
    fn walk_is_independent_of_the_dag() {
        let (dag, n) = graph(2, &[(0, 1)]);
        let mut walk = Walk::new(&dag, vec![]);
        drop(dag);
        walk.next_ready();
        walk.complete(n[0]);
        assert_eq!(walk.next_ready(), Some(n[1]));
    }

    #[test]
    #[cfg(not(debug_assertions))]
    fn misuse_is_ignored_in_release() {
        let (dag, n) = graph(2, &[(0, 1)]);
        let mut walk = Walk::new(&dag, vec![]);
        walk.complete(n[1]); // pending: ignored
        assert_eq!(walk.outcome(n[1]), Pending);
        walk.next_ready();
        walk.complete(n[0]);
        walk.complete(n[0]); // twice: ignored
        assert_eq!(walk.fail(n[0]), vec![]);
        assert_eq!(walk.ready_len(), 1);
        assert_eq!(walk.running(), 0);
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "not running")]
    fn completing_twice_debug_asserts() {
        let (dag, n) = graph(1, &[]);
        let mut walk = Walk::new(&dag, vec![]);
        walk.next_ready();
        walk.complete(n[0]);
        walk.complete(n[0]);
    }
}
