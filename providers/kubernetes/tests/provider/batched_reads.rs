//! Batched reads (`batch_key`/`read_batch`): one list per kind (of the namespace, or across
//! namespaces), answers equal
//! to per-object reads (a Secret's content still sensitive), pages of a small `limit`, an
//! object missing from a list confirmed gone; the no-op plan without a dry run where one can
//! only agree; and ARM asked once per cluster for reads and plans, again for writes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use plinth_provider::{BatchRead, NullReporter, Observed, Prior, Provider, Request};
use plinth_provider_kubernetes::{FnCredentials, KubernetesProvider};
use plinth_sim::LogEntry;
use plinth_value::Value;
use serde_json::json;

use super::support::*;

/// Creates the objects `names` of type `t` in `ns` with `body` as their content; their
/// records as a refresh reads them (id, inputs, attributes).
async fn create_all(
    w: &World,
    t: &str,
    ns: &str,
    names: &[&str],
    body: serde_json::Value,
) -> Vec<Prior> {
    let mut out = Vec::new();
    for name in names {
        let mut manifest = json!({"metadata": {"name": name, "namespace": ns}});
        if let (Some(m), Some(b)) = (manifest.as_object_mut(), body.as_object()) {
            m.extend(b.clone());
        }
        let cfg = v(json!({ "manifest": manifest }));
        let made = w.k8s.create(&w.req(t), &cfg).await.unwrap();
        out.push(w.refreshed(t, &made, &cfg).await);
    }
    out
}

/// The request log from entry `from` on.
fn log_since(w: &World, from: usize) -> Vec<LogEntry> {
    w.sim.shared.log.lock().unwrap()[from..].to_vec()
}

fn log_len(w: &World) -> usize {
    w.sim.shared.log.lock().unwrap().len()
}

/// GETs of the collection ending in `collection` (lists), and of objects in it.
fn lists_and_gets(log: &[LogEntry], collection: &str) -> (usize, usize) {
    let lists = log
        .iter()
        .filter(|e| e.method == "GET" && e.path.ends_with(collection))
        .count();
    let gets = log
        .iter()
        .filter(|e| {
            e.method == "GET"
                && e.path
                    .rsplit_once('/')
                    .is_some_and(|(head, _)| head.ends_with(collection))
        })
        .count();
    (lists, gets)
}

/// Reads `priors` (of type `t`) as one batch.
async fn read_batch(
    w: &World,
    k8s: &KubernetesProvider,
    t: &str,
    priors: &[Prior],
) -> Vec<Option<Observed>> {
    let reads: Vec<BatchRead<'_>> = priors
        .iter()
        .map(|prior| BatchRead {
            req: w.req(t),
            prior,
            recorded: true,
        })
        .collect();
    k8s.read_batch(&reads)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect()
}

/// What `read` answers for each, one by one.
async fn read_each(w: &World, t: &str, priors: &[Prior]) -> Vec<Option<Observed>> {
    let mut out = Vec::new();
    for prior in priors {
        out.push(w.k8s.read(&w.req(t), prior).await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_list_per_kind_answers_as_reads_do() {
    let w = World::new(false).await;
    let ns = "v1/Namespace";
    w.k8s
        .create(
            &w.req(ns),
            &v(json!({"manifest": {"metadata": {"name": "other"}}})),
        )
        .await
        .unwrap();
    let (cm, sa) = ("v1/ConfigMap", "v1/ServiceAccount");
    let data = json!({"data": {"k": "v"}});
    let cms_default = create_all(&w, cm, "default", &["a", "b", "c"], data.clone()).await;
    let cms_other = create_all(&w, cm, "other", &["a", "d"], data).await;
    let sas_other = create_all(&w, sa, "other", &["w1", "w2", "w3"], json!({})).await;

    // The key is the kind.
    let key = |t: &str, prior: &Prior| w.k8s.batch_key(&w.req(t), prior).unwrap();
    assert_eq!(key(cm, &cms_default[0]), key(cm, &cms_default[2]));
    assert_eq!(key(cm, &cms_default[0]), key(cm, &cms_other[0]));
    assert_ne!(key(cm, &cms_other[0]), key(sa, &sas_other[0]));

    let both: Vec<Prior> = cms_default.iter().chain(&cms_other).cloned().collect();
    for (t, priors, collection) in [
        // All in one namespace: that namespace's list.
        (cm, &cms_default, "/api/v1/namespaces/default/configmaps"),
        (sa, &sas_other, "/api/v1/namespaces/other/serviceaccounts"),
        // In two: one list across namespaces.
        (cm, &both, "/api/v1/configmaps"),
    ] {
        let from = log_len(&w);
        let batched = read_batch(&w, &w.k8s, t, priors).await;
        let log = log_since(&w, from);
        assert_eq!(lists_and_gets(&log, collection), (1, 0), "{t} {collection}");
        assert_eq!(log.len(), 1, "one request in all: {log:?}");
        assert!(batched.iter().all(Option::is_some));
        assert_eq!(batched, read_each(&w, t, priors).await, "{t} {collection}");
        // As a GET answers it: apiVersion and kind included, managedFields not.
        let first = batched[0].as_ref().unwrap();
        assert_eq!(attr(&first.attributes, "kind"), Some(Value::from(&t[3..])));
        assert_eq!(
            attr(&first.attributes, "apiVersion"),
            Some(Value::from("v1"))
        );
        assert!(attr(&first.attributes, "metadata.managedFields").is_none());
    }
    // The same name in two namespaces is two objects.
    let a_default = read_batch(&w, &w.k8s, cm, &both).await;
    assert_eq!(
        attr(
            &a_default[0].as_ref().unwrap().attributes,
            "metadata.namespace"
        ),
        Some(Value::from("default"))
    );
    assert_eq!(
        attr(
            &a_default[3].as_ref().unwrap().attributes,
            "metadata.namespace"
        ),
        Some(Value::from("other"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_pages_are_followed_and_a_missing_object_is_confirmed_gone() {
    let mut w = World::new(false).await;
    let t = "v1/ConfigMap";
    let names = ["p1", "p2", "p3", "p4", "p5", "p6"];
    let priors = create_all(&w, t, "default", &names, json!({"data": {"k": "v"}})).await;
    let collection = "/namespaces/default/configmaps";

    // Pages of 2, the second and third asked with `continue`. The namespace's
    // kube-root-ca.crt (every namespace has one) takes a place in the first page: after three
    // pages one object is still missing, not worth a fourth page: it is read with a GET.
    w.k8s.list_page_size = 2;
    let from = log_len(&w);
    let batched = read_batch(&w, &w.k8s, t, &priors).await;
    let log = log_since(&w, from);
    assert_eq!(lists_and_gets(&log, collection), (3, 1), "{log:?}");
    assert_eq!(
        log.iter()
            .filter(|e| e.query.as_deref().is_some_and(|q| q.contains("continue=")))
            .count(),
        2
    );
    assert!(
        log.iter()
            .filter(|e| e.path.ends_with(collection))
            .all(|e| e.query.as_deref().is_some_and(|q| q.contains("limit=2")))
    );
    assert_eq!(batched, read_each(&w, t, &priors).await);

    // p3 is deleted out of band: missing from a list of several pages, it is confirmed with
    // a GET (answered 404) before it is called gone.
    let other = w.other_client().await;
    let dp = kube::core::params::DeleteParams::default();
    let del = kube::core::Request::new(format!("/api/v1{collection}"))
        .delete("p3", &dp)
        .unwrap();
    other.request::<serde_json::Value>(del).await.unwrap();
    let from = log_len(&w);
    let batched = read_batch(&w, &w.k8s, t, &priors).await;
    let log = log_since(&w, from);
    assert!(batched[2].is_none());
    assert!(
        batched
            .iter()
            .enumerate()
            .all(|(i, b)| (i == 2) == b.is_none())
    );
    assert!(
        log.iter()
            .any(|e| e.method == "GET" && e.path.ends_with("/configmaps/p3") && e.status == 404),
        "{log:?}"
    );
    assert_eq!(batched, read_each(&w, t, &priors).await);

    // In one page, the list is one answer of the server: gone without another request.
    w.k8s.list_page_size = 500;
    let from = log_len(&w);
    let batched = read_batch(&w, &w.k8s, t, &priors).await;
    assert!(batched[2].is_none());
    assert_eq!(lists_and_gets(&log_since(&w, from), collection), (1, 0));

    // Two objects wanted among many: the list is not read to its end, the rest is a GET.
    w.k8s.list_page_size = 2;
    let two = [priors[0].clone(), priors[5].clone()];
    let from = log_len(&w);
    let batched = read_batch(&w, &w.k8s, t, &two).await;
    assert_eq!(lists_and_gets(&log_since(&w, from), collection), (1, 1));
    assert_eq!(batched, read_each(&w, t, &two).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_read_in_a_batch_stays_sensitive() {
    let w = World::new(false).await;
    let t = "v1/Secret";
    let priors = create_all(
        &w,
        t,
        "default",
        &["s1", "s2"],
        json!({"stringData": {"password": "Batched-Secret-1"}}),
    )
    .await;
    let batched = read_batch(&w, &w.k8s, t, &priors).await;
    for b in &batched {
        let a = &b.as_ref().unwrap().attributes;
        assert!(attr(a, "data").unwrap().is_sensitive(), "{a}");
        assert!(!a.to_string().contains("QmF0Y2hlZC1TZWNyZXQtMQ"), "{a}");
    }
    assert_eq!(batched, read_each(&w, t, &priors).await);
}

/// Dry-run applies in a log.
fn dry_runs(log: &[LogEntry]) -> usize {
    log.iter()
        .filter(|e| {
            e.method == "PATCH" && e.query.as_deref().is_some_and(|q| q.contains("dryRun=All"))
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_no_op_plan_sends_no_dry_run_but_drift_and_changes_do() {
    let w = World::new(false).await;
    let t = "v1/ConfigMap";
    let cfg = v(
        json!({"manifest": {"metadata": {"name": "quiet", "labels": {"app": "x"}}, "data": {"k": "v"}}}),
    );
    let made = w.k8s.create(&w.req(t), &cfg).await.unwrap();

    // Read this run (refresh), the same inputs as the last apply, nothing drifted.
    let prior = w.refreshed(t, &made, &cfg).await;
    let from = log_len(&w);
    let plan = w.plan(t, Some(&prior), &cfg).await.unwrap();
    assert!(plan.changed.is_empty(), "{:?}", plan.changed);
    assert_eq!(plan.attributes, prior.attributes);
    assert_eq!(log_since(&w, from).len(), 0, "no request at all");

    // A changed input: the dry run says what changes.
    let changed = v(
        json!({"manifest": {"metadata": {"name": "quiet", "labels": {"app": "x"}}, "data": {"k": "w"}}}),
    );
    let from = log_len(&w);
    let plan = w.plan(t, Some(&prior), &changed).await.unwrap();
    assert_eq!(plan.changed, vec![p("manifest.data.k")]);
    assert_eq!(dry_runs(&log_since(&w, from)), 1);

    // Drift on a managed path (a hand edit): the dry run is sent and the change shown.
    let other = w.other_client().await;
    let path = "/api/v1/namespaces/default/configmaps";
    update_as(
        &other,
        path,
        "quiet",
        "kubectl-edit",
        json!({"data": {"k": "edited"}}),
    )
    .await;
    let prior = w.refreshed(t, &made, &cfg).await;
    let from = log_len(&w);
    let plan = w.plan(t, Some(&prior), &cfg).await.unwrap();
    assert_eq!(plan.changed, vec![p("manifest.data.k")]);
    // (Twice: the hand edit's field conflicts, and is taken back with force.)
    assert!(dry_runs(&log_since(&w, from)) >= 1);

    // Put back; a record this provider did not read in this run (read elsewhere, as a
    // refresh through the settings recorded with it would): the dry run is sent.
    let done = w.k8s.update(&w.req(t), &prior, &cfg).await.unwrap();
    let prior = w.refreshed(t, &done, &cfg).await;
    let fresh = k8s_provider(&w.azure, None);
    let from = log_len(&w);
    let plan = fresh.plan(&w.req(t), Some(&prior), &cfg).await.unwrap();
    assert!(plan.changed.is_empty(), "{:?}", plan.changed);
    assert_eq!(dry_runs(&log_since(&w, from)), 1);
    // And the provider that read it sends none.
    let from = log_len(&w);
    w.assert_no_change(t, &prior, &cfg).await;
    assert_eq!(dry_runs(&log_since(&w, from)), 0);

    // A value the server keeps otherwise than sent (a Secret's write-only stringData):
    // always a dry run.
    let s = "v1/Secret";
    let scfg =
        v(json!({"manifest": {"metadata": {"name": "pw"}, "stringData": {"password": "x"}}}));
    let made = w.k8s.create(&w.req(s), &scfg).await.unwrap();
    let prior = w.refreshed(s, &made, &scfg).await;
    let from = log_len(&w);
    w.assert_no_change(s, &prior, &scfg).await;
    assert_eq!(dry_runs(&log_since(&w, from)), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arm_is_asked_once_per_cluster_for_reads_and_plans_and_again_for_writes() {
    let w = World::new(false).await;
    // A counting fake: the cluster does not exist until `exists` holds its kubeconfig.
    let asks = Arc::new(AtomicUsize::new(0));
    let exists: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let (a, e) = (asks.clone(), exists.clone());
    let k8s = KubernetesProvider::with_credentials(Arc::new(FnCredentials(
        move |_id: String, _admin: bool| {
            let (a, e) = (a.clone(), e.clone());
            async move {
                a.fetch_add(1, Ordering::SeqCst);
                Ok(e.lock().unwrap().clone())
            }
        },
    )));
    let t = "v1/ConfigMap";
    let names: Vec<String> = (0..12).map(|i| format!("cm{i}")).collect();
    let cfgs: Vec<Value> = names
        .iter()
        .map(|n| v(json!({"manifest": {"metadata": {"name": n}, "data": {"k": "v"}}})))
        .collect();
    let priors: Vec<Prior> = names
        .iter()
        .zip(&cfgs)
        .map(|(n, c)| prior_of(&format!("v1/ConfigMap/default/{n}"), c))
        .collect();

    // A plan on an empty state: existence checks and plans of 12 objects, all at once.
    let reads = futures::future::join_all(
        priors
            .iter()
            .map(|p| async { k8s.read(&w.req(t), p).await }),
    )
    .await;
    assert!(reads.into_iter().all(|r| r.unwrap().is_none()));
    let plans = futures::future::join_all(
        cfgs.iter()
            .map(|c| async { k8s.plan(&w.req(t), None, c).await }),
    )
    .await;
    for plan in plans {
        assert_eq!(
            attr(&plan.unwrap().attributes, "metadata.uid"),
            Some(Value::Unknown)
        );
    }
    let batched: Vec<BatchRead<'_>> = priors
        .iter()
        .map(|prior| BatchRead {
            req: w.req(t),
            prior,
            recorded: true,
        })
        .collect();
    assert!(
        k8s.read_batch(&batched)
            .await
            .into_iter()
            .all(|r| r.unwrap().is_none())
    );
    assert_eq!(asks.load(Ordering::SeqCst), 1, "one ask for the whole plan");

    // The apply: a create asks again, though the plan was told the cluster is absent.
    let err = k8s.create(&w.req(t), &cfgs[0]).await.unwrap_err();
    assert!(err.message.contains("does not exist"), "{err}");
    assert_eq!(asks.load(Ordering::SeqCst), 2);
    // The cluster is created meanwhile (by the same apply): the next create finds it.
    *exists.lock().unwrap() = Some(w.kubeconfig().await);
    let made = k8s.create(&w.req(t), &cfgs[0]).await.unwrap();
    assert_eq!(attr(&made.attributes, "data.k"), Some(Value::from("v")));
    assert_eq!(asks.load(Ordering::SeqCst), 3);
    // From then on everything uses the connection made.
    let read = k8s.read(&w.req(t), &priors[0]).await.unwrap();
    assert!(read.is_some());
    let from = log_len(&w);
    let batched = k8s.read_batch(&batched).await;
    assert!(batched[0].as_ref().unwrap().is_some());
    assert!(batched[1..].iter().all(|r| r.as_ref().unwrap().is_none()));
    assert_eq!(
        lists_and_gets(&log_since(&w, from), "/namespaces/default/configmaps"),
        (1, 0)
    );
    assert_eq!(asks.load(Ordering::SeqCst), 3);

    // Deletes ask again too: another provider, told "absent" by a read, then a delete.
    let asks2 = Arc::new(AtomicUsize::new(0));
    let a2 = asks2.clone();
    let other = KubernetesProvider::with_credentials(Arc::new(FnCredentials(
        move |_id: String, _admin: bool| {
            let a2 = a2.clone();
            async move {
                a2.fetch_add(1, Ordering::SeqCst);
                Ok(None)
            }
        },
    )));
    let req = Request::new(t, "cm", &NullReporter).with_settings(&w.settings);
    assert!(other.read(&req, &priors[1]).await.unwrap().is_none());
    assert!(other.read(&req, &priors[2]).await.unwrap().is_none());
    assert_eq!(asks2.load(Ordering::SeqCst), 1);
    other.delete(&req, &priors[1]).await.unwrap();
    assert_eq!(asks2.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sets_objects_of_one_kind_are_read_with_one_list() {
    let w = World::new(false).await;
    let t = "manifests";
    let cm = |name: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": name}});
    let cfg = v(json!({"manifests": [
        cm("s1"), cm("s2"), cm("s3"),
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "alone"}},
    ]}));
    let made = w.k8s.create(&w.req(t), &cfg).await.unwrap();
    let prior = Prior {
        id: made.id.clone(),
        inputs: cfg.clone(),
        attributes: made.attributes.clone(),
    };
    let from = log_len(&w);
    let read = w.k8s.read(&w.req(t), &prior).await.unwrap().unwrap();
    let log = log_since(&w, from);
    // The three ConfigMaps with one list, the ServiceAccount with its GET.
    assert_eq!(
        lists_and_gets(&log, "/namespaces/default/configmaps"),
        (1, 0)
    );
    assert_eq!(
        lists_and_gets(&log, "/namespaces/default/serviceaccounts"),
        (0, 1)
    );
    assert_eq!(log.len(), 2, "{log:?}");
    // As the objects read one by one.
    for name in ["s1", "s2", "s3"] {
        let id = format!("v1/ConfigMap/default/{name}");
        let alone = w
            .k8s
            .read(
                &w.req("v1/ConfigMap"),
                &prior_of(&id, &v(json!({"manifest": cm(name)}))),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            read.attributes.get(&p(&format!("objects[\"{id}\"]"))),
            Some(alone.attributes)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_planned_at_once_discover_their_kind_once() {
    let w = World::new(false).await;
    let fresh = k8s_provider(&w.azure, None);
    let plan_all = |t: &'static str| {
        let fresh = &fresh;
        let w = &w;
        async move {
            let cfgs: Vec<Value> = (0..10)
                .map(|i| v(json!({"manifest": {"metadata": {"name": format!("o{i}")}}})))
                .collect();
            let plans = futures::future::join_all(
                cfgs.iter()
                    .map(|c| async move { fresh.plan(&w.req(t), None, c).await }),
            )
            .await;
            assert!(plans.into_iter().all(|p| p.is_ok()));
        }
    };
    let discovery = |log: &[LogEntry], path: &str| {
        log.iter()
            .filter(|e| e.method == "GET" && e.path.ends_with(path))
            .count()
    };
    let from = log_len(&w);
    plan_all("v1/ConfigMap").await;
    assert_eq!(discovery(&log_since(&w, from), "/api/v1"), 1);
    // A kind the cluster does not serve (KEDA is off): asked once too, not once per object.
    let from = log_len(&w);
    plan_all("keda.sh/v1alpha1/ScaledJob").await;
    assert_eq!(
        discovery(&log_since(&w, from), "/apis/keda.sh/v1alpha1"),
        1,
        "{:?}",
        log_since(&w, from)
    );
    // And asked again later: a CRD may appear while plinth runs.
    let from = log_len(&w);
    plan_all("keda.sh/v1alpha1/ScaledJob").await;
    assert_eq!(discovery(&log_since(&w, from), "/apis/keda.sh/v1alpha1"), 1);
}
