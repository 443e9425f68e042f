//! Property tests for `Dag` and `Walk`.

use std::collections::BTreeSet;

use plinth_graph::{Dag, NodeId, NodeOutcome, Walk};
use proptest::prelude::*;

/// `n` nodes and edges only from a lower to a higher index (always acyclic).
fn acyclic() -> impl Strategy<Value = (usize, Vec<(usize, usize)>)> {
    (1usize..40).prop_flat_map(|n| {
        let edge = (0..n, 0..n).prop_map(|(a, b)| (a.min(b), a.max(b)));
        let edges = proptest::collection::vec(edge, 0..n * 3)
            .prop_map(|edges| edges.into_iter().filter(|(a, b)| a != b).collect());
        (Just(n), edges)
    })
}

fn build(n: usize, edges: &[(usize, usize)]) -> (Dag<usize>, Vec<NodeId>) {
    let mut dag = Dag::new();
    let ids: Vec<NodeId> = (0..n).map(|i| dag.add_node(i)).collect();
    for &(a, b) in edges {
        dag.add_edge(ids[a], ids[b]);
    }
    (dag, ids)
}

fn assert_real_cycle(dag: &Dag<usize>, cycle: &[NodeId]) {
    assert!(!cycle.is_empty());
    let distinct: BTreeSet<_> = cycle.iter().collect();
    assert_eq!(
        distinct.len(),
        cycle.len(),
        "cycle repeats a node: {cycle:?}"
    );
    for (i, &a) in cycle.iter().enumerate() {
        let b = cycle[(i + 1) % cycle.len()];
        assert!(
            dag.has_edge(a, b),
            "{a:?} -> {b:?} is not an edge; cycle {cycle:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_dag_is_acyclic_and_topo_sorted((n, edges) in acyclic()) {
        let (dag, _) = build(n, &edges);
        prop_assert_eq!(dag.find_cycle(), None);
        let order = dag.topo_order().expect("acyclic");
        prop_assert_eq!(order.len(), n);
        let mut position = vec![usize::MAX; n];
        for (i, id) in order.iter().enumerate() {
            prop_assert_eq!(position[id.index()], usize::MAX, "node listed twice");
            position[id.index()] = i;
        }
        for (a, b) in dag.edges() {
            prop_assert!(position[a.index()] < position[b.index()]);
        }
        // the reversed graph gives a destroy order: dependents first
        let rev = dag.reversed().topo_order().expect("acyclic");
        let mut rpos = vec![0; n];
        for (i, id) in rev.iter().enumerate() {
            rpos[id.index()] = i;
        }
        for (a, b) in dag.edges() {
            prop_assert!(rpos[b.index()] < rpos[a.index()]);
        }
    }

    #[test]
    fn back_edge_creates_a_real_cycle(
        (n, edges) in acyclic(),
        back in any::<prop::sample::Index>(),
    ) {
        prop_assume!(!edges.is_empty());
        let (mut dag, ids) = build(n, &edges);
        // close a cycle: pick an edge a -> b, then add b -> a
        let (a, b) = edges[back.index(edges.len())];
        dag.add_edge(ids[b], ids[a]);
        let cycle = dag.find_cycle().expect("a cycle exists");
        assert_real_cycle(&dag, &cycle);
        prop_assert_eq!(dag.topo_order(), Err(cycle));
    }

    #[test]
    fn arbitrary_graph_cycle_detection_agrees_with_topo(
        n in 1usize..25,
        raw in proptest::collection::vec((0usize..25, 0usize..25), 0..60),
    ) {
        let edges: Vec<_> = raw.into_iter().map(|(a, b)| (a % n, b % n)).collect();
        let (dag, _) = build(n, &edges);
        match dag.find_cycle() {
            Some(cycle) => {
                assert_real_cycle(&dag, &cycle);
                // it goes through the smallest node that is on any cycle
                let smallest = *cycle.iter().min().unwrap();
                prop_assert_eq!(cycle[0], smallest);
                for id in dag.node_ids().take_while(|&id| id < smallest) {
                    // nodes before it cannot reach themselves
                    let reach = dag.descendants(&dag.dependents(id));
                    prop_assert!(!reach.contains(&id));
                }
            }
            None => prop_assert!(dag.topo_order().is_ok()),
        }
    }

    #[test]
    fn walk_in_random_order_visits_each_node_once(
        (n, edges) in acyclic(),
        picks in proptest::collection::vec(any::<prop::sample::Index>(), 0..200),
        priority in proptest::collection::vec(0u64..5, 0..40),
    ) {
        let (dag, _) = build(n, &edges);
        let mut walk = Walk::new(&dag, priority);
        let mut running: Vec<NodeId> = Vec::new();
        let mut done = vec![false; n];
        let mut visited = 0;
        let mut picks = picks.into_iter();
        while !walk.is_finished() {
            // start everything that is ready, then complete one running node
            // chosen at random
            while let Some(id) = walk.next_ready() {
                prop_assert!(!done[id.index()]);
                for dep in dag.dependencies(id) {
                    prop_assert!(done[dep.index()], "{id:?} started before {dep:?}");
                }
                running.push(id);
            }
            prop_assert_eq!(walk.running(), running.len());
            let i = picks.next().map_or(0, |p| p.index(running.len()));
            let id = running.swap_remove(i);
            walk.complete(id);
            done[id.index()] = true;
            visited += 1;
        }
        prop_assert_eq!(visited, n);
        prop_assert!(done.iter().all(|&d| d));
        prop_assert_eq!(walk.nodes_with(NodeOutcome::Succeeded).len(), n);
    }

    #[test]
    fn walk_failure_skips_exactly_the_descendants(
        (n, edges) in acyclic(),
        fail_at in any::<prop::sample::Index>(),
    ) {
        let (dag, ids) = build(n, &edges);
        let victim = ids[fail_at.index(n)];
        let mut walk = Walk::new(&dag, dag.critical_path(|_| 1));
        let mut skipped = BTreeSet::new();
        while let Some(id) = walk.next_ready() {
            if id == victim {
                skipped.extend(walk.fail(id));
            } else {
                walk.complete(id);
            }
        }
        prop_assert!(walk.is_finished());
        let mut expected = dag.descendants(&[victim]);
        expected.remove(&victim);
        prop_assert_eq!(&skipped, &expected);
        for id in ids {
            let want = if id == victim {
                NodeOutcome::Failed
            } else if expected.contains(&id) {
                NodeOutcome::Skipped
            } else {
                NodeOutcome::Succeeded
            };
            prop_assert_eq!(walk.outcome(id), want);
        }
    }

    #[test]
    fn critical_path_matches_brute_force((n, edges) in acyclic(), weights in proptest::collection::vec(0u64..100, 40)) {
        let (dag, _) = build(n, &edges);
        let cp = dag.critical_path(|id| weights[id.index()]);
        // edges go low -> high, so compute from the highest index down
        let mut expected = vec![0u64; n];
        for v in (0..n).rev() {
            let best = edges.iter().filter(|e| e.0 == v).map(|e| expected[e.1]).max().unwrap_or(0);
            expected[v] = weights[v] + best;
        }
        prop_assert_eq!(cp, expected);
    }

    #[test]
    fn filter_keeps_induced_edges((n, edges) in acyclic(), mask in proptest::collection::vec(any::<bool>(), 40)) {
        let (dag, ids) = build(n, &edges);
        let keep: BTreeSet<NodeId> = ids.iter().copied().filter(|id| mask[id.index()]).collect();
        let (sub, map) = dag.filter(&keep);
        prop_assert_eq!(sub.len(), keep.len());
        let mut expected: Vec<_> = dag
            .edges()
            .into_iter()
            .filter_map(|(a, b)| Some((*map.get(&a)?, *map.get(&b)?)))
            .collect();
        expected.sort();
        prop_assert_eq!(sub.edges(), expected);
        for (old, new) in map {
            prop_assert_eq!(dag[old], sub[new]);
        }
    }
}
