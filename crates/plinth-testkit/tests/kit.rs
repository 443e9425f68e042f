//! The kit's own promises, which the crates' tests rely on: the two convergence checks
//! differ exactly in unshown drift, `apply_ok` refuses a run with failures that `apply`
//! reports, and the fake provider's store, log and injected failures are what tests see.

use std::sync::Arc;

use plinth_plan::Action;
use plinth_testkit::{Harness, Op, action, state_id};
use serde_json::json;

const ONE: &str = r#"
[resource.a]
type = "fake:thing"
name = "a"
value = 1
"#;

/// Runs `f` on a tokio task and tells whether it panicked (the kit's checks fail by panicking).
async fn panics<F>(f: F) -> bool
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    tokio::spawn(f).await.is_err_and(|e| e.is_panic())
}

#[tokio::test]
async fn unshown_drift_passes_assert_converged_but_not_assert_converged_without_drift() {
    let h = Harness::new(ONE);
    let (plan, report) = h.up().await;
    assert_eq!(action(&plan, "a"), Action::Create);
    assert!(report.ok());
    assert_eq!(state_id(&h.state(), "a").as_deref(), Some("fake/a"));
    assert_eq!(h.id("a"), "fake/a");
    h.assert_converged_without_drift().await;

    // The service changes an attribute it owns (the fake's `etag` is volatile).
    h.fake.mutate("fake/a", "etag", json!("etag-changed"));
    h.assert_converged().await;
    let h = Arc::new(h);
    let strict = h.clone();
    assert!(
        panics(async move { strict.assert_converged_without_drift().await }).await,
        "unshown drift must fail the strict check"
    );

    // A change the configuration makes is never converged.
    h.fake.mutate("fake/a", "value", json!(2));
    let lenient = h.clone();
    assert!(
        panics(async move { lenient.assert_converged().await }).await,
        "drift of a configured value must fail assert_converged"
    );
}

#[tokio::test]
async fn apply_reports_failures_and_apply_ok_refuses_them() {
    let h = Harness::new(ONE);
    h.fake.fail("a", Op::Create, "no capacity");
    let plan = h.plan().await;
    let report = h.apply(&plan).await;
    assert!(!report.ok());
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    assert_eq!(h.fake.started(Op::Create), vec!["a"]);
    assert!(h.fake.objects().is_empty());

    let h = Arc::new(h);
    let strict = h.clone();
    assert!(
        panics(async move {
            let plan = strict.plan().await;
            strict.apply_ok(&plan).await;
        })
        .await,
        "apply_ok must fail on a failed operation"
    );

    h.fake.clear_failures();
    h.up().await;
    assert_eq!(h.fake.object("fake/a").unwrap()["value"], json!(1));
    assert_eq!(h.fake.count(Op::Create), 3);
    h.assert_converged().await;
}
