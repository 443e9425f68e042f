//! The [`Dag`] type and its algorithms.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashSet, VecDeque};
use std::fmt;
use std::ops::{Index, IndexMut};

use petgraph::Direction;
use petgraph::graph::NodeIndex;
use petgraph::stable_graph::StableDiGraph;
use petgraph::visit::{EdgeRef, IntoEdgeReferences};

/// Identifies a node of one [`Dag`].
///
/// Ids are dense and handed out in insertion order, so [`NodeId::index`] can
/// index a `Vec` with one slot per node. Ordering follows insertion order.
/// An id is only meaningful for the `Dag` that created it (and for graphs
/// derived with [`Dag::reversed`], which keeps ids).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(NodeIndex<u32>);

impl NodeId {
    /// The dense index of this node (`0..dag.len()`).
    pub fn index(self) -> usize {
        self.0.index()
    }

    pub(crate) fn from_index(index: usize) -> Self {
        NodeId(NodeIndex::new(index))
    }
}

impl fmt::Debug for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeId({})", self.index())
    }
}

impl From<NodeId> for NodeIndex<u32> {
    fn from(id: NodeId) -> Self {
        id.0
    }
}

/// A directed graph of nodes `N` whose edges point from a dependency to its
/// dependent (see the [crate docs](crate)).
///
/// Nodes are never removed, so ids stay dense. Duplicate edges are ignored.
/// Cycles (including self-loops) can be built and are reported by
/// [`Dag::find_cycle`] / [`Dag::topo_order`].
#[derive(Clone)]
pub struct Dag<N> {
    graph: StableDiGraph<N, (), u32>,
    /// `(dependency, dependent)` index pairs, for O(1) duplicate detection.
    edge_set: HashSet<(u32, u32)>,
}

impl<N> Default for Dag<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<N: fmt::Debug> fmt::Debug for Dag<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dag")
            .field("nodes", &self.iter().collect::<Vec<_>>())
            .field("edges", &self.edges())
            .finish()
    }
}

impl<N> Index<NodeId> for Dag<N> {
    type Output = N;
    fn index(&self, id: NodeId) -> &N {
        self.node(id)
    }
}

impl<N> IndexMut<NodeId> for Dag<N> {
    fn index_mut(&mut self, id: NodeId) -> &mut N {
        self.node_mut(id)
    }
}

/// Compressed adjacency (one direction), neighbours sorted per node.
#[derive(Clone, Debug)]
pub(crate) struct Adjacency {
    offsets: Vec<usize>,
    targets: Vec<u32>,
}

impl Adjacency {
    pub(crate) fn of(&self, v: usize) -> &[u32] {
        &self.targets[self.offsets[v]..self.offsets[v + 1]]
    }
}

impl<N> Dag<N> {
    /// An empty graph.
    pub fn new() -> Self {
        Dag {
            graph: StableDiGraph::default(),
            edge_set: HashSet::new(),
        }
    }

    /// An empty graph with room for `nodes` nodes and `edges` edges.
    pub fn with_capacity(nodes: usize, edges: usize) -> Self {
        Dag {
            graph: StableDiGraph::with_capacity(nodes, edges),
            edge_set: HashSet::with_capacity(edges),
        }
    }

    /// Adds a node and returns its id (ids are `0, 1, 2, …` in insertion order).
    pub fn add_node(&mut self, n: N) -> NodeId {
        NodeId(self.graph.add_node(n))
    }

    /// Records that `dependent` depends on `dependency` (edge
    /// `dependency -> dependent`). Adding the same edge again is a no-op.
    /// `dependency == dependent` creates a self-loop (a cycle).
    ///
    /// # Panics
    /// If either id does not belong to this graph.
    pub fn add_edge(&mut self, dependency: NodeId, dependent: NodeId) {
        assert!(
            self.contains(dependency) && self.contains(dependent),
            "add_edge: {dependency:?} -> {dependent:?} refers to a node outside this graph \
             ({} nodes)",
            self.len()
        );
        let key = (dependency.0.index() as u32, dependent.0.index() as u32);
        if self.edge_set.insert(key) {
            self.graph.add_edge(dependency.0, dependent.0, ());
        }
    }

    /// Whether the edge `dependency -> dependent` exists.
    pub fn has_edge(&self, dependency: NodeId, dependent: NodeId) -> bool {
        self.edge_set
            .contains(&(dependency.index() as u32, dependent.index() as u32))
    }

    /// Whether `id` belongs to this graph.
    pub fn contains(&self, id: NodeId) -> bool {
        self.graph.contains_node(id.0)
    }

    /// The node's value.
    ///
    /// # Panics
    /// If `id` does not belong to this graph; see [`Dag::get`].
    pub fn node(&self, id: NodeId) -> &N {
        match self.graph.node_weight(id.0) {
            Some(n) => n,
            None => panic!("{id:?} is not in this graph ({} nodes)", self.len()),
        }
    }

    /// The node's value, mutably.
    ///
    /// # Panics
    /// If `id` does not belong to this graph; see [`Dag::get_mut`].
    pub fn node_mut(&mut self, id: NodeId) -> &mut N {
        let len = self.len();
        match self.graph.node_weight_mut(id.0) {
            Some(n) => n,
            None => panic!("{id:?} is not in this graph ({len} nodes)"),
        }
    }

    /// The node's value, or `None` if `id` is not in this graph.
    pub fn get(&self, id: NodeId) -> Option<&N> {
        self.graph.node_weight(id.0)
    }

    /// The node's value mutably, or `None` if `id` is not in this graph.
    pub fn get_mut(&mut self, id: NodeId) -> Option<&mut N> {
        self.graph.node_weight_mut(id.0)
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    /// Whether the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of (distinct) edges.
    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// All node ids in insertion (= `NodeId`) order.
    pub fn node_ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.graph.node_indices().map(NodeId)
    }

    /// All nodes with their ids, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (NodeId, &N)> + '_ {
        self.graph
            .node_indices()
            .map(move |i| (NodeId(i), &self.graph[i]))
    }

    /// All edges as `(dependency, dependent)`, sorted.
    pub fn edges(&self) -> Vec<(NodeId, NodeId)> {
        let mut edges: Vec<_> = self
            .graph
            .edge_references()
            .map(|e| (NodeId(e.source()), NodeId(e.target())))
            .collect();
        edges.sort_unstable();
        edges
    }

    /// What `id` depends on (its direct predecessors), sorted by `NodeId`.
    pub fn dependencies(&self, id: NodeId) -> Vec<NodeId> {
        self.neighbours(id, Direction::Incoming)
    }

    /// What depends on `id` (its direct successors), sorted by `NodeId`.
    pub fn dependents(&self, id: NodeId) -> Vec<NodeId> {
        self.neighbours(id, Direction::Outgoing)
    }

    fn neighbours(&self, id: NodeId, dir: Direction) -> Vec<NodeId> {
        let mut out: Vec<NodeId> = self
            .graph
            .neighbors_directed(id.0, dir)
            .map(NodeId)
            .collect();
        out.sort_unstable();
        out
    }

    /// Upper bound of node indices (equals `len()` since nodes are never removed).
    fn bound(&self) -> usize {
        use petgraph::visit::NodeIndexable;
        self.graph.node_bound()
    }

    /// Compressed adjacency in direction `dir`, neighbours sorted per node.
    pub(crate) fn adjacency(&self, dir: Direction) -> Adjacency {
        let n = self.bound();
        let mut offsets = vec![0usize; n + 1];
        let endpoints = |e: petgraph::stable_graph::EdgeReference<'_, (), u32>| match dir {
            Direction::Outgoing => (e.source().index(), e.target().index()),
            Direction::Incoming => (e.target().index(), e.source().index()),
        };
        for e in self.graph.edge_references() {
            offsets[endpoints(e).0 + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut targets = vec![0u32; offsets[n]];
        for e in self.graph.edge_references() {
            let (from, to) = endpoints(e);
            targets[fill[from]] = to as u32;
            fill[from] += 1;
        }
        for v in 0..n {
            targets[offsets[v]..offsets[v + 1]].sort_unstable();
        }
        Adjacency { offsets, targets }
    }

    /// Finds a cycle, if any.
    ///
    /// The result follows edge (dependency) direction: `[a, b, c]` means
    /// `a -> b -> c -> a`; a self-loop gives `[a]`. The cycle goes through the
    /// smallest `NodeId` that lies on any cycle, starts at that node, and is a
    /// shortest cycle through it (ties broken towards smaller ids), so the
    /// answer is deterministic.
    ///
    /// `O(V + E log E)`: Tarjan's SCC algorithm (iterative, no recursion) and
    /// then a breadth-first search inside a single component.
    pub fn find_cycle(&self) -> Option<Vec<NodeId>> {
        let n = self.bound();
        let succ = self.adjacency(Direction::Outgoing);
        let comp = tarjan_scc(n, &succ);
        let mut comp_size = vec![0u32; n];
        for &c in &comp {
            comp_size[c as usize] += 1;
        }
        let has_self_loop = |v: usize| succ.of(v).binary_search(&(v as u32)).is_ok();
        let start = (0..n).find(|&v| comp_size[comp[v] as usize] > 1 || has_self_loop(v))?;
        if has_self_loop(start) {
            return Some(vec![NodeId::from_index(start)]);
        }
        // Shortest cycle through `start`: BFS inside its component until a
        // node with an edge back to `start` is popped.
        const NONE: u32 = u32::MAX;
        let mut parent = vec![NONE; n];
        let mut queue = VecDeque::from([start as u32]);
        parent[start] = start as u32;
        while let Some(u) = queue.pop_front() {
            for &w in succ.of(u as usize) {
                if w as usize == start {
                    let mut cycle = vec![NodeId::from_index(u as usize)];
                    let mut cur = u;
                    while cur as usize != start {
                        cur = parent[cur as usize];
                        cycle.push(NodeId::from_index(cur as usize));
                    }
                    cycle.reverse();
                    return Some(cycle);
                }
                if comp[w as usize] == comp[start] && parent[w as usize] == NONE {
                    parent[w as usize] = u;
                    queue.push_back(w);
                }
            }
        }
        unreachable!(
            "a strongly connected component of size > 1 contains a cycle through each node"
        )
    }

    /// A topological order: every dependency before its dependents.
    ///
    /// Deterministic: among the nodes whose dependencies are all listed, the
    /// smallest `NodeId` comes next (Kahn's algorithm with a min-heap), so a
    /// graph without edges yields insertion order.
    ///
    /// # Errors
    /// The cycle found by [`Dag::find_cycle`] if the graph is not acyclic.
    pub fn topo_order(&self) -> Result<Vec<NodeId>, Vec<NodeId>> {
        let n = self.bound();
        let succ = self.adjacency(Direction::Outgoing);
        let mut indegree = vec![0u32; n];
        for &t in &succ.targets {
            indegree[t as usize] += 1;
        }
        let mut heap: BinaryHeap<Reverse<u32>> = (0..n)
            .filter(|&v| indegree[v] == 0)
            .map(|v| Reverse(v as u32))
            .collect();
        let mut order = Vec::with_capacity(n);
        while let Some(Reverse(v)) = heap.pop() {
            order.push(NodeId::from_index(v as usize));
            for &w in succ.of(v as usize) {
                indegree[w as usize] -= 1;
                if indegree[w as usize] == 0 {
                    heap.push(Reverse(w));
                }
            }
        }
        if order.len() == n {
            Ok(order)
        } else {
            Err(self
                .find_cycle()
                .expect("Kahn's algorithm stalled, so the graph has a cycle"))
        }
    }

    /// `roots` plus everything they transitively depend on. Ids not in this
    /// graph are ignored.
    pub fn ancestors(&self, roots: &[NodeId]) -> BTreeSet<NodeId> {
        self.reach(roots, Direction::Incoming)
    }

    /// `roots` plus everything that transitively depends on them. Ids not in
    /// this graph are ignored.
    pub fn descendants(&self, roots: &[NodeId]) -> BTreeSet<NodeId> {
        self.reach(roots, Direction::Outgoing)
    }

    fn reach(&self, roots: &[NodeId], dir: Direction) -> BTreeSet<NodeId> {
        let mut seen = vec![false; self.bound()];
        let mut stack: Vec<NodeIndex<u32>> = Vec::new();
        for r in roots {
            if self.contains(*r) && !seen[r.index()] {
                seen[r.index()] = true;
                stack.push(r.0);
            }
        }
        while let Some(v) = stack.pop() {
            for w in self.graph.neighbors_directed(v, dir) {
                if !seen[w.index()] {
                    seen[w.index()] = true;
                    stack.push(w);
                }
            }
        }
        seen.iter()
            .enumerate()
            .filter(|&(_, &s)| s)
            .map(|(i, _)| NodeId::from_index(i))
            .collect()
    }

    /// For each node (indexed by [`NodeId::index`]): its own weight plus the
    /// largest value among its dependents, i.e. the heaviest weighted chain
    /// from the node to any sink. The engine uses this as the [`Walk`]
    /// priority so the longest remaining chain starts first.
    ///
    /// `weight` is called exactly once per node, in `NodeId` order. Sums
    /// saturate at `u64::MAX`. `O(V + E)`.
    ///
    /// Cycles are not an error here: a node on a cycle, or one that leads into
    /// a cycle, gets its own weight plus the largest value among those of its
    /// dependents that are not in that situation (a lower bound).
    ///
    /// [`Walk`]: crate::Walk
    pub fn critical_path(&self, weight: impl Fn(NodeId) -> u64) -> Vec<u64> {
        let n = self.bound();
        let weights: Vec<u64> = (0..n).map(|i| weight(NodeId::from_index(i))).collect();
        let succ = self.adjacency(Direction::Outgoing);
        let pred = self.adjacency(Direction::Incoming);
        let mut remaining: Vec<u32> = (0..n).map(|v| succ.of(v).len() as u32).collect();
        let mut done = vec![false; n];
        let mut cp = vec![0u64; n];
        let mut stack: Vec<u32> = (0..n as u32)
            .filter(|&v| remaining[v as usize] == 0)
            .collect();
        while let Some(v) = stack.pop() {
            let v = v as usize;
            let best = succ
                .of(v)
                .iter()
                .map(|&d| cp[d as usize])
                .max()
                .unwrap_or(0);
            cp[v] = weights[v].saturating_add(best);
            done[v] = true;
            for &u in pred.of(v) {
                remaining[u as usize] -= 1;
                if remaining[u as usize] == 0 {
                    stack.push(u);
                }
            }
        }
        for v in 0..n {
            if !done[v] {
                let best = succ
                    .of(v)
                    .iter()
                    .filter(|&&d| done[d as usize])
                    .map(|&d| cp[d as usize])
                    .max()
                    .unwrap_or(0);
                cp[v] = weights[v].saturating_add(best);
            }
        }
        cp
    }

    /// The same graph with every edge reversed; node ids are unchanged.
    /// Walking the reversed graph visits dependents first (destroy order).
    pub fn reversed(&self) -> Dag<N>
    where
        N: Clone,
    {
        let mut out = Dag::with_capacity(self.len(), self.edge_count());
        for (_, n) in self.iter() {
            out.add_node(n.clone());
        }
        for (a, b) in self.edges() {
            out.add_edge(b, a);
        }
        out
    }

    /// The transitive reduction: the same nodes (ids unchanged) with only the edges that
    /// no longer path implies. An edge `a -> c` is dropped when `c` is also reached from `a`
    /// through another node (`a -> b -> c`), so every dependency, direct or indirect, is
    /// still there, drawn once. Unique for an acyclic graph.
    ///
    /// `O(V * (V + E))`: for each node, a search from its direct dependents in
    /// topological order.
    ///
    /// # Errors
    /// The cycle found by [`Dag::find_cycle`] if the graph is not acyclic (a graph with a
    /// cycle has no unique transitive reduction).
    pub fn transitive_reduction(&self) -> Result<Dag<N>, Vec<NodeId>>
    where
        N: Clone,
    {
        let order = self.topo_order()?;
        let n = self.bound();
        let mut position = vec![0usize; n];
        for (i, id) in order.iter().enumerate() {
            position[id.index()] = i;
        }
        let succ = self.adjacency(Direction::Outgoing);
        let mut out = Dag::with_capacity(self.len(), self.edge_count());
        for (_, node) in self.iter() {
            out.add_node(node.clone());
        }
        // `reached[v] == a + 1`: `v` is reached from `a` through one of `a`'s dependents.
        let mut reached = vec![0usize; n];
        let mut stack: Vec<u32> = Vec::new();
        for a in 0..n {
            let mut direct: Vec<u32> = succ.of(a).to_vec();
            // A dependent can only be reached through one that comes before it.
            direct.sort_unstable_by_key(|&b| position[b as usize]);
            for &b in &direct {
                if reached[b as usize] == a + 1 {
                    // Implied by a longer path: `a -> ... -> b`.
                    continue;
                }
                out.add_edge(NodeId::from_index(a), NodeId::from_index(b as usize));
                stack.push(b);
                while let Some(v) = stack.pop() {
                    for &w in succ.of(v as usize) {
                        if reached[w as usize] != a + 1 {
                            reached[w as usize] = a + 1;
                            stack.push(w);
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// The subgraph induced by `keep` (those nodes and the edges between
    /// them).
    ///
    /// Node ids are **not** preserved: kept nodes are renumbered densely,
    /// keeping their relative order. The returned map takes each kept old id
    /// to its new id. Ids in `keep` that are not in this graph are ignored.
    pub fn filter(&self, keep: &BTreeSet<NodeId>) -> (Dag<N>, BTreeMap<NodeId, NodeId>)
    where
        N: Clone,
    {
        let mut out = Dag::with_capacity(keep.len(), 0);
        let mut map = BTreeMap::new();
        for &old in keep {
            if let Some(n) = self.get(old) {
                map.insert(old, out.add_node(n.clone()));
            }
        }
        for (a, b) in self.edges() {
            if let (Some(&na), Some(&nb)) = (map.get(&a), map.get(&b)) {
                out.add_edge(na, nb);
            }
        }
        (out, map)
    }
}

/// Iterative Tarjan: component id per node (ids are arbitrary but equal
/// exactly within one strongly connected component).
fn tarjan_scc(n: usize, succ: &Adjacency) -> Vec<u32> {
    const UNVISITED: u32 = u32::MAX;
    let mut index = vec![UNVISITED; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut comp = vec![UNVISITED; n];
    let mut stack: Vec<u32> = Vec::new();
    // (node, position of the next successor to look at)
    let mut calls: Vec<(u32, usize)> = Vec::new();
    let mut counter = 0u32;
    let mut next_comp = 0u32;

    for s in 0..n {
        if index[s] != UNVISITED {
            continue;
        }
        index[s] = counter;
        low[s] = counter;
        counter += 1;
        stack.push(s as u32);
        on_stack[s] = true;
        calls.push((s as u32, 0));
        while let Some(&mut (v, ref mut pos)) = calls.last_mut() {
            let vu = v as usize;
            let edges = succ.of(vu);
            if let Some(&w) = edges.get(*pos) {
                *pos += 1;
                let wu = w as usize;
                if index[wu] == UNVISITED {
                    index[wu] = counter;
                    low[wu] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[wu] = true;
                    calls.push((w, 0));
                } else if on_stack[wu] {
                    low[vu] = low[vu].min(index[wu]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(p, _)) = calls.last() {
                low[p as usize] = low[p as usize].min(low[vu]);
            }
            if low[vu] == index[vu] {
                loop {
                    let w = stack.pop().expect("v is still on the stack") as usize;
                    on_stack[w] = false;
                    comp[w] = next_comp;
                    if w == vu {
                        break;
                    }
                }
                next_comp += 1;
            }
        }
    }
    comp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[usize]) -> Vec<NodeId> {
        v.iter().map(|&i| NodeId::from_index(i)).collect()
    }

    fn graph(n: usize, edges: &[(usize, usize)]) -> Dag<usize> {
        let mut dag = Dag::new();
        for i in 0..n {
            dag.add_node(i);
        }
        for &(a, b) in edges {
            dag.add_edge(NodeId::from_index(a), NodeId::from_index(b));
        }
        dag
    }

    #[test]
    fn basics() {
        let mut dag = Dag::with_capacity(2, 1);
        assert!(dag.is_empty());
        let rg = dag.add_node("rg");
        let aks = dag.add_node("aks");
        assert_eq!((rg.index(), aks.index()), (0, 1));
        dag.add_edge(rg, aks);
        dag.add_edge(rg, aks); // duplicate ignored
        assert_eq!(dag.edge_count(), 1);
        assert!(dag.has_edge(rg, aks));
        assert!(!dag.has_edge(aks, rg));
        assert_eq!(dag.len(), 2);
        assert_eq!(dag.node(aks), &"aks");
        *dag.node_mut(aks) = "aks2";
        assert_eq!(dag[aks], "aks2");
        assert_eq!(dag.node_ids().collect::<Vec<_>>(), vec![rg, aks]);
        assert_eq!(dag.dependencies(aks), vec![rg]);
        assert_eq!(dag.dependents(rg), vec![aks]);
        assert!(dag.dependencies(rg).is_empty());
        assert_eq!(dag.edges(), vec![(rg, aks)]);
        assert_eq!(format!("{rg:?}"), "NodeId(0)");
        let other: Dag<&str> = Dag::new();
        assert!(other.get(rg).is_none());
        assert!(!other.contains(rg));
    }

    #[test]
    fn neighbours_are_sorted() {
        let dag = graph(5, &[(4, 2), (0, 2), (3, 2), (2, 4), (2, 1), (2, 3)]);
        let n = NodeId::from_index;
        assert_eq!(dag.dependencies(n(2)), ids(&[0, 3, 4]));
        assert_eq!(dag.dependents(n(2)), ids(&[1, 3, 4]));
    }

    #[test]
    #[should_panic(expected = "outside this graph")]
    fn add_edge_to_foreign_node_panics() {
        let mut dag = graph(1, &[]);
        dag.add_edge(NodeId::from_index(0), NodeId::from_index(7));
    }

    #[test]
    fn cycle_reported_in_edge_order() {
        // a -> b -> c -> a, plus an unrelated acyclic part
        let dag = graph(5, &[(3, 4), (0, 1), (1, 2), (2, 0)]);
        assert_eq!(dag.find_cycle(), Some(ids(&[0, 1, 2])));
        // the same cycle added in a different rotation still starts at the smallest id
        let dag = graph(3, &[(1, 2), (2, 0), (0, 1)]);
        assert_eq!(dag.find_cycle(), Some(ids(&[0, 1, 2])));
        let dag = graph(3, &[(0, 2), (2, 1), (1, 0)]);
        assert_eq!(dag.find_cycle(), Some(ids(&[0, 2, 1])));
    }

    #[test]
    fn cycle_prefers_smallest_node_and_shortest_path() {
        // cycle 3 -> 4 -> 3 and cycle 1 -> 2 -> 5 -> 1; node 0 feeds both.
        let dag = graph(6, &[(0, 3), (0, 1), (3, 4), (4, 3), (1, 2), (2, 5), (5, 1)]);
        assert_eq!(dag.find_cycle(), Some(ids(&[1, 2, 5])));
        // two cycles through 0: long 0->1->2->3->0 and short 0->4->0
        let dag = graph(5, &[(0, 1), (1, 2), (2, 3), (3, 0), (0, 4), (4, 0)]);
        assert_eq!(dag.find_cycle(), Some(ids(&[0, 4])));
    }

    #[test]
    fn self_loop() {
        let dag = graph(3, &[(0, 1), (2, 2)]);
        assert_eq!(dag.find_cycle(), Some(ids(&[2])));
        assert_eq!(dag.topo_order(), Err(ids(&[2])));
        // a self-loop on the smallest cyclic node wins over a longer cycle through it
        let dag = graph(2, &[(0, 1), (1, 0), (0, 0)]);
        assert_eq!(dag.find_cycle(), Some(ids(&[0])));
    }

    #[test]
    fn acyclic_has_no_cycle() {
        assert_eq!(graph(0, &[]).find_cycle(), None);
        let diamond = graph(4, &[(0, 1), (0, 2), (1, 3), (2, 3)]);
        assert_eq!(diamond.find_cycle(), None);
    }

    #[test]
    fn long_chain_does_not_overflow_the_stack() {
        let n = 100_000;
        let mut edges: Vec<(usize, usize)> = (0..n - 1).map(|i| (i, i + 1)).collect();
        let dag = graph(n, &edges);
        assert_eq!(dag.find_cycle(), None);
        assert_eq!(dag.topo_order().unwrap().len(), n);
        assert_eq!(dag.critical_path(|_| 1)[0], n as u64);
        edges.push((n - 1, 0));
        let dag = graph(n, &edges);
        let cycle = dag.find_cycle().unwrap();
        assert_eq!(cycle.len(), n);
        assert_eq!(cycle[0].index(), 0);
        assert_eq!(cycle[n - 1].index(), n - 1);
    }

    #[test]
    fn topo_order_diamond_and_stability() {
        let diamond = graph(4, &[(0, 2), (0, 1), (1, 3), (2, 3)]);
        assert_eq!(diamond.topo_order(), Ok(ids(&[0, 1, 2, 3])));
        // dependencies first even when inserted later
        let dag = graph(4, &[(3, 0), (2, 1)]);
        assert_eq!(dag.topo_order(), Ok(ids(&[2, 1, 3, 0])));
        assert_eq!(graph(3, &[]).topo_order(), Ok(ids(&[0, 1, 2])));
        let cyclic = graph(4, &[(0, 1), (1, 2), (2, 3), (3, 1)]);
        assert_eq!(cyclic.topo_order(), Err(ids(&[1, 2, 3])));
    }

    #[test]
    fn ancestors_and_descendants() {
        //   0 -> 1 -> 3
        //   2 -> 3 -> 4 ; 5 isolated
        let dag = graph(6, &[(0, 1), (1, 3), (2, 3), (3, 4)]);
        let set = |v: &[usize]| ids(v).into_iter().collect::<BTreeSet<_>>();
        let n = NodeId::from_index;
        assert_eq!(dag.ancestors(&[n(3)]), set(&[0, 1, 2, 3]));
        assert_eq!(dag.ancestors(&[n(1), n(5)]), set(&[0, 1, 5]));
        assert_eq!(dag.descendants(&[n(1)]), set(&[1, 3, 4]));
        assert_eq!(dag.descendants(&[n(0), n(2)]), set(&[0, 1, 2, 3, 4]));
        assert_eq!(dag.descendants(&[]), set(&[]));
        assert_eq!(dag.descendants(&[n(99)]), set(&[]));
    }

    #[test]
    fn critical_path_chain_and_branch() {
        // chain 0 -> 1 -> 2 (weights 1, 2, 3) and branch 0 -> 3 (weight 10); 4 isolated
        let dag = graph(5, &[(0, 1), (1, 2), (0, 3)]);
        let w = [1u64, 2, 3, 10, 7];
        let cp = dag.critical_path(|id| w[id.index()]);
        assert_eq!(cp, vec![11, 5, 3, 10, 7]);
        // diamond: both branches counted once each, max taken
        let dag = graph(4, &[(0, 1), (0, 2), (1, 3), (2, 3)]);
        let w = [1u64, 5, 2, 1];
        assert_eq!(dag.critical_path(|id| w[id.index()]), vec![7, 6, 3, 1]);
        // saturation instead of overflow
        let dag = graph(2, &[(0, 1)]);
        assert_eq!(dag.critical_path(|_| u64::MAX), vec![u64::MAX, u64::MAX]);
        // cycles do not hang or panic: 0 -> 1 -> 2 -> 1, 1 -> 3
        let dag = graph(4, &[(0, 1), (1, 2), (2, 1), (1, 3)]);
        assert_eq!(dag.critical_path(|_| 1), vec![1, 2, 1, 1]);
    }

    #[test]
    fn reversed_keeps_ids() {
        let dag = graph(3, &[(0, 1), (1, 2)]);
        let rev = dag.reversed();
        let n = NodeId::from_index;
        assert_eq!(rev[n(2)], 2);
        assert_eq!(rev.edges(), vec![(n(1), n(0)), (n(2), n(1))]);
        assert_eq!(rev.topo_order(), Ok(ids(&[2, 1, 0])));
    }

    #[test]
    fn transitive_reduction_drops_implied_edges_only() {
        let n = NodeId::from_index;
        // rg -> aks -> sa -> job, with the shortcuts rg -> sa, rg -> job, aks -> job; and
        // an independent diamond 4 -> {5, 6} -> 7 whose edges are all needed.
        let dag = graph(
            8,
            &[
                (0, 1),
                (1, 2),
                (2, 3),
                (0, 2),
                (0, 3),
                (1, 3),
                (4, 5),
                (4, 6),
                (5, 7),
                (6, 7),
            ],
        );
        let reduced = dag.transitive_reduction().unwrap();
        assert_eq!(reduced.len(), 8);
        assert_eq!(reduced[n(3)], 3);
        assert_eq!(
            reduced.edges(),
            vec![
                (n(0), n(1)),
                (n(1), n(2)),
                (n(2), n(3)),
                (n(4), n(5)),
                (n(4), n(6)),
                (n(5), n(7)),
                (n(6), n(7))
            ]
        );
        // Reachability is unchanged.
        for v in 0..8 {
            assert_eq!(
                dag.descendants(&[n(v)]),
                reduced.descendants(&[n(v)]),
                "{v}"
            );
        }
        // Insertion order does not matter: the later node is the dependency here.
        let backwards = graph(3, &[(2, 1), (1, 0), (2, 0)]);
        assert_eq!(
            backwards.transitive_reduction().unwrap().edges(),
            vec![(n(1), n(0)), (n(2), n(1))]
        );
        // Nothing to reduce, and nothing at all.
        let chain = graph(3, &[(0, 1), (1, 2)]);
        assert_eq!(chain.transitive_reduction().unwrap().edges(), chain.edges());
        assert!(Dag::<u8>::new().transitive_reduction().unwrap().is_empty());
    }

    #[test]
    fn transitive_reduction_of_a_cycle_is_the_cycle() {
        let dag = graph(3, &[(0, 1), (1, 2), (2, 0)]);
        assert_eq!(dag.transitive_reduction().err(), Some(ids(&[0, 1, 2])));
    }

    #[test]
    fn transitive_reduction_of_a_large_dense_graph() {
        // Every node depends on every earlier one: the reduction is the chain.
        let n = 300;
        let edges: Vec<(usize, usize)> = (0..n).flat_map(|b| (0..b).map(move |a| (a, b))).collect();
        let dag = graph(n, &edges);
        let reduced = dag.transitive_reduction().unwrap();
        let chain: Vec<(NodeId, NodeId)> = (1..n)
            .map(|b| (NodeId::from_index(b - 1), NodeId::from_index(b)))
            .collect();
        assert_eq!(reduced.edges(), chain);
    }

    #[test]
    fn filter_renumbers_and_maps() {
        let dag = graph(5, &[(0, 1), (1, 2), (2, 3), (0, 4), (4, 3)]);
        let n = NodeId::from_index;
        let keep: BTreeSet<_> = [n(0), n(2), n(3), n(4), n(42)].into_iter().collect();
        let (sub, map) = dag.filter(&keep);
        assert_eq!(sub.len(), 4);
        assert_eq!(
            map.into_iter().collect::<Vec<_>>(),
            vec![(n(0), n(0)), (n(2), n(1)), (n(3), n(2)), (n(4), n(3))]
        );
        assert_eq!(
            sub.iter().map(|(_, &v)| v).collect::<Vec<_>>(),
            vec![0, 2, 3, 4]
        );
        // 0->1 and 1->2 dropped with node 1
        assert_eq!(sub.edges(), vec![(n(0), n(3)), (n(1), n(2)), (n(3), n(2))]);
    }
}
