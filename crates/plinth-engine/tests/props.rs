//! Property: any DAG of fake resources applies with every dependency finished before its
//! dependents start, respects parallelism and serialisation keys, converges (a second plan
//! is empty), and destroys in reverse order.

use plinth_plan::PlanMode;
use plinth_testkit::*;
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct Node {
    /// Indices of earlier nodes this one depends on, and whether by reference (else
    /// `depends_on`).
    deps: Vec<(usize, bool)>,
    group: Option<u8>,
    sleep_ms: u64,
    est_ms: u64,
    named: bool,
}

fn node(i: usize) -> impl Strategy<Value = Node> {
    (
        proptest::collection::vec((0..i.max(1), any::<bool>()), 0..=i.min(3)),
        prop_oneof![Just(None), (0u8..2).prop_map(Some)],
        0u64..40,
        0u64..5000,
        any::<bool>(),
    )
        .prop_map(move |(deps, group, sleep_ms, est_ms, named)| {
            let mut deps: Vec<(usize, bool)> = if i == 0 { vec![] } else { deps };
            deps.sort();
            deps.dedup_by_key(|d| d.0);
            Node {
                deps,
                group,
                sleep_ms,
                est_ms,
                named,
            }
        })
}

fn graph() -> impl Strategy<Value = Vec<Node>> {
    (1usize..9).prop_flat_map(|n| (0..n).map(node).collect::<Vec<_>>())
}

fn toml(nodes: &[Node]) -> String {
    let mut out = String::new();
    for (i, n) in nodes.iter().enumerate() {
        out.push_str(&format!(
            "[resource.n{i}]\ntype = \"fake:thing\"\nsleep_ms = {}\nest_ms = {}\n",
            n.sleep_ms, n.est_ms
        ));
        if n.named {
            out.push_str(&format!("name = \"n{i}\"\n"));
        }
        if let Some(g) = n.group {
            out.push_str(&format!("group = \"g{g}\"\n"));
        }
        let explicit: Vec<String> = n
            .deps
            .iter()
            .filter(|d| !d.1)
            .map(|d| format!("\"n{}\"", d.0))
            .collect();
        if !explicit.is_empty() {
            out.push_str(&format!("depends_on = [{}]\n", explicit.join(", ")));
        }
        for (j, by_ref) in &n.deps {
            if *by_ref {
                out.push_str(&format!("ref_{j} = \"${{n{j}.arn}}\"\n"));
            }
        }
        out.push('\n');
    }
    out
}

fn check(nodes: Vec<Node>, parallelism: usize) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let mut h = Harness::new(&toml(&nodes));
        h.parallelism = parallelism;
        let (plan, report) = h.up().await;
        assert_eq!(plan.summary().add, nodes.len());
        assert_eq!(report.succeeded, nodes.len());
        let f = &h.fake;
        for (i, n) in nodes.iter().enumerate() {
            for (j, by_ref) in &n.deps {
                let (a, b) = (format!("n{j}"), format!("n{i}"));
                assert!(
                    f.pos(&a, Op::Create, false) < f.pos(&b, Op::Create, true),
                    "{a} must finish before {b} starts"
                );
                if *by_ref {
                    let arn =
                        h.fake.object(&state_id(&h.state(), &a).unwrap()).unwrap()["arn"].clone();
                    let obj = h.fake.object(&state_id(&h.state(), &b).unwrap()).unwrap();
                    assert_eq!(obj[format!("ref_{j}")], arn);
                }
            }
        }
        assert!(f.max_in_flight() <= parallelism.max(1));
        assert!(f.max_in_flight_for("group:g0") <= 1);
        assert!(f.max_in_flight_for("group:g1") <= 1);
        assert_eq!(h.fake.objects().len(), nodes.len());
        h.assert_converged().await;

        h.fake.clear_log();
        let plan = h.plan_mode(PlanMode::Destroy).await;
        let report = h.apply(&plan).await;
        assert!(report.ok(), "{report:?}");
        for (i, n) in nodes.iter().enumerate() {
            for (j, _) in &n.deps {
                let (a, b) = (format!("n{j}"), format!("n{i}"));
                assert!(
                    f.pos(&b, Op::Delete, false) < f.pos(&a, Op::Delete, true),
                    "{b} must be deleted before {a}"
                );
            }
        }
        assert!(h.fake.objects().is_empty());
        assert!(h.state().resources.is_empty());
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn random_dags_apply_in_order_and_converge(nodes in graph(), parallelism in 1usize..5) {
        check(nodes, parallelism);
    }

    #[test]
    fn failures_skip_exactly_their_transitive_dependents(
        nodes in graph(),
        failing in proptest::collection::vec(any::<bool>(), 9),
        parallelism in 1usize..5,
    ) {
        check_failures(nodes, failing, parallelism);
    }
}

fn check_failures(nodes: Vec<Node>, failing: Vec<bool>, parallelism: usize) {
    use std::collections::BTreeSet;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let mut h = Harness::new(&toml(&nodes));
        h.parallelism = parallelism;
        let fails: BTreeSet<usize> = (0..nodes.len()).filter(|&i| failing[i]).collect();
        for i in &fails {
            h.fake.fail(&format!("n{i}"), Op::Create, "injected");
        }
        // Nodes downstream of a failure (strictly): skipped. Nodes are in topological order.
        let mut downstream = BTreeSet::new();
        for (i, n) in nodes.iter().enumerate() {
            if n.deps
                .iter()
                .any(|(j, _)| fails.contains(j) || downstream.contains(j))
            {
                downstream.insert(i);
            }
        }
        let plan = h.plan().await;
        let report = h.apply(&plan).await;
        let failed: BTreeSet<usize> = report
            .failures
            .iter()
            .map(|f| f.address[1..].parse().unwrap())
            .collect();
        let skipped: BTreeSet<usize> = report
            .skipped
            .iter()
            .map(|(a, _)| a[1..].parse().unwrap())
            .collect();
        let expect_failed: BTreeSet<usize> = fails.difference(&downstream).copied().collect();
        assert_eq!(failed, expect_failed);
        assert_eq!(skipped, downstream);
        assert_eq!(report.skipped.len(), downstream.len(), "each skipped once");
        assert_eq!(report.succeeded, nodes.len() - failed.len() - skipped.len());
        let state = h.state();
        for i in 0..nodes.len() {
            let ok = !failed.contains(&i) && !skipped.contains(&i);
            let rec = state.resources.get(&format!("n{i}"));
            assert_eq!(
                rec.is_some_and(|r| r.status == plinth_state::Status::Created),
                ok,
                "n{i}"
            );
        }
        assert_eq!(h.fake.objects().len(), report.succeeded);

        h.fake.clear_failures();
        let (plan, _) = h.up().await;
        assert_eq!(plan.summary().add, failed.len() + skipped.len());
        assert_eq!(h.fake.objects().len(), nodes.len());
        h.assert_converged().await;
    });
}
