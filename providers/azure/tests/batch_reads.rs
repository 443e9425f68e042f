//! Batched reads against the simulated cloud (`instant`): objects of one collection are read
//! with its list (counted in the simulator's request log), every answer equal to the object's
//! own read; pages followed with `nextLink`; the cost bound; an object missing from the list
//! confirmed with a GET; existence checks under a parent that does not exist yet; role
//! assignments of a group (at it and below it) beside an inherited one; drift between two
//! pages that shifts an object off every page.

mod common;

use std::time::Duration;

use common::{SUB, requests, set_config};
use plinth_provider::{BatchRead, NullReporter, Observed, Prior, Provider, ProviderError, Request};
use plinth_provider_azure::{AzureProvider, AzureSettings, LroPolicy};
use plinth_sim::{Latency, LogEntry, SimConfig, SimHandle};
use plinth_value::Value;
use serde_json::{Value as Json, json};

const RG_T: &str = "Microsoft.Resources/resourceGroups@2025-04-01";
const MI_T: &str = "Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30";
const FIC_T: &str =
    "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2024-11-30";
const RA_T: &str = "Microsoft.Authorization/roleAssignments@2022-04-01";
const OWNER: &str =
    "/providers/Microsoft.Authorization/roleDefinitions/090c5cfd-751d-490a-894a-3ce6f1109419";
const READER: &str =
    "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7";

async fn sim() -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    plinth_sim::start(
        listener,
        SimConfig {
            latency: Latency::Instant,
            ..SimConfig::default()
        },
    )
    .await
    .unwrap()
}

fn provider(sim: &SimHandle) -> AzureProvider {
    let mut s = AzureSettings::for_sim_with(&sim.url, |_| None);
    s.lro = LroPolicy {
        poll_interval: Duration::from_millis(10),
        max_poll_interval: Duration::from_millis(50),
        timeout: Duration::from_secs(60),
    };
    AzureProvider::new(s)
}

fn rg_id(name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{name}")
}

fn mi_id(rg: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
        rg_id(rg)
    )
}

async fn create(p: &AzureProvider, t: &str, config: Json) -> Observed {
    p.create(&Request::new(t, "x", &NullReporter), &Value::from(config))
        .await
        .unwrap()
}

async fn group(p: &AzureProvider, name: &str) {
    create(p, RG_T, json!({"name": name, "location": "eastus"})).await;
}

async fn identity(p: &AzureProvider, rg: &str, name: &str) -> Observed {
    create(
        p,
        MI_T,
        json!({"name": name, "parent": rg_id(rg), "location": "eastus", "tags": {"n": name}}),
    )
    .await
}

/// A refresh prior: the id state holds.
fn prior_of(id: &str) -> Prior {
    Prior {
        id: Some(id.to_string()),
        inputs: Value::Null,
        attributes: Value::Null,
    }
}

/// An existence check's prior, as the engine makes it: the planned id and the configuration.
fn planned(p: &AzureProvider, t: &str, config: Json) -> Prior {
    let inputs = Value::from(config);
    Prior {
        id: p.planned_id(t, &inputs),
        inputs,
        attributes: Value::Null,
    }
}

type Answers = Vec<Result<Option<Observed>, ProviderError>>;

/// Reads `priors` as one batch and each alone; returns the batch's answers and the requests
/// the batch made (the single reads come after them in the log).
async fn both_ways(
    sim: &SimHandle,
    p: &AzureProvider,
    t: &str,
    priors: &[Prior],
) -> (Answers, Vec<LogEntry>) {
    both_ways_as(sim, p, t, priors, true).await
}

/// [`both_ways`] for reads of objects state records (`recorded`, a refresh) or not (an
/// existence check).
async fn both_ways_as(
    sim: &SimHandle,
    p: &AzureProvider,
    t: &str,
    priors: &[Prior],
    recorded: bool,
) -> (Answers, Vec<LogEntry>) {
    let from = requests(sim).await.len();
    let reads: Vec<BatchRead<'_>> = priors
        .iter()
        .map(|prior| BatchRead {
            req: Request::new(t, "x", &NullReporter),
            prior,
            recorded,
        })
        .collect();
    let keys: Vec<Option<String>> = reads.iter().map(|r| p.batch_key(&r.req, r.prior)).collect();
    assert!(keys[0].is_some(), "{t} is read in batches");
    assert!(
        keys.iter().all(|k| *k == keys[0]),
        "one collection: {keys:?}"
    );
    let batch = p.read_batch(&reads).await;
    // ARM's requests only (not the token or the admin API's).
    let made: Vec<LogEntry> = requests(sim)
        .await
        .split_off(from)
        .into_iter()
        .filter(|e| e.path.starts_with("/subscriptions"))
        .collect();
    assert_eq!(batch.len(), priors.len());
    for (r, got) in reads.iter().zip(&batch) {
        let alone = p.read(&r.req, r.prior).await;
        assert_eq!(
            got.as_ref().map_err(|e| e.message.clone()),
            alone.as_ref().map_err(|e| e.message.clone()),
            "{:?}: the batch answers what a read does",
            r.prior.id
        );
    }
    (batch, made)
}

fn count(log: &[LogEntry], path: &str) -> usize {
    log.iter()
        .filter(|e| e.method == "GET" && e.path.eq_ignore_ascii_case(path))
        .count()
}

fn found(a: &Answers) -> usize {
    a.iter().filter(|r| matches!(r, Ok(Some(_)))).count()
}

#[tokio::test]
async fn identities_of_one_group_are_read_by_one_list_then_by_pages() {
    let sim = sim().await;
    let p = provider(&sim);
    group(&p, "g").await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(identity(&p, "g", &format!("mi-{i}")).await.id.unwrap());
    }
    let coll = format!(
        "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities",
        rg_id("g")
    );
    let priors: Vec<Prior> = ids.iter().map(|id| prior_of(id)).collect();
    let (answers, made) = both_ways(&sim, &p, MI_T, &priors).await;
    assert_eq!(found(&answers), 6);
    assert_eq!(made.len(), 1, "one list page: {made:?}");
    assert_eq!(count(&made, &coll), 1);
    // The tags the configuration set are there: the list items are the GET bodies.
    let first = answers[0].as_ref().unwrap().as_ref().unwrap();
    assert_eq!(
        first.attributes.get(&plinth_testkit::path("tags.n")),
        Some(Value::from("mi-0"))
    );

    // Pages of three: two pages, through nextLink, and no GET.
    set_config(&sim, json!({"page_size": 3})).await;
    let (answers, made) = both_ways(&sim, &p, MI_T, &priors).await;
    assert_eq!(found(&answers), 6);
    assert_eq!(made.len(), 2, "{made:?}");
    assert_eq!(count(&made, &coll), 2);
    assert!(
        made[1]
            .query
            .as_deref()
            .is_some_and(|q| q.contains("skiptoken")),
        "the second page is the nextLink: {:?}",
        made[1].query
    );
}

#[tokio::test]
async fn a_collection_much_bigger_than_the_batch_stops_listing_and_gets_the_rest() {
    let sim = sim().await;
    let p = provider(&sim);
    group(&p, "g").await;
    for i in 0..8 {
        identity(&p, "g", &format!("a-{i}")).await;
    }
    let z: Vec<Prior> = ["z-1", "z-2"]
        .iter()
        .map(|n| prior_of(&mi_id("g", n)))
        .collect();
    identity(&p, "g", "z-1").await;
    identity(&p, "g", "z-2").await;
    set_config(&sim, json!({"page_size": 2})).await;
    let (answers, made) = both_ways(&sim, &p, MI_T, &z).await;
    assert_eq!(found(&answers), 2);
    // Pages of a-*: after three pages, more pages than objects missing: two GETs.
    let coll = format!(
        "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities",
        rg_id("g")
    );
    assert_eq!(count(&made, &coll), 3, "{made:?}");
    assert_eq!(count(&made, &mi_id("g", "z-1")), 1);
    assert_eq!(count(&made, &mi_id("g", "z-2")), 1);
    assert_eq!(made.len(), 5);
}

#[tokio::test]
async fn a_recorded_object_missing_from_a_list_is_confirmed_with_a_get() {
    let sim = sim().await;
    let p = provider(&sim);
    group(&p, "g").await;
    identity(&p, "g", "here").await;
    identity(&p, "g", "also").await;
    let priors = vec![
        prior_of(&mi_id("g", "here")),
        prior_of(&mi_id("g", "gone")),
        // ARM ids are case-insensitive: state may spell them otherwise.
        prior_of(&mi_id("g", "ALSO").replace("resourceGroups", "resourcegroups")),
    ];
    let (answers, made) = both_ways(&sim, &p, MI_T, &priors).await;
    assert!(matches!(answers[1], Ok(None)), "{:?}", answers[1]);
    assert_eq!(found(&answers), 2);
    assert_eq!(made.len(), 2, "one page and the confirming GET: {made:?}");
    assert_eq!(count(&made, &mi_id("g", "gone")), 1);

    // An existence check takes a list that came whole in one answer at its word.
    let (answers, made) = both_ways_as(&sim, &p, MI_T, &priors, false).await;
    assert!(matches!(answers[1], Ok(None)), "{:?}", answers[1]);
    assert_eq!(found(&answers), 2);
    assert_eq!(made.len(), 1, "one page, no confirming GET: {made:?}");

    // Read over several pages, the list is no snapshot: the missing one is read alone.
    set_config(&sim, json!({"page_size": 1})).await;
    let (answers, made) = both_ways(&sim, &p, MI_T, &priors).await;
    assert!(matches!(answers[1], Ok(None)), "{:?}", answers[1]);
    assert_eq!(found(&answers), 2);
    assert_eq!(made.len(), 3, "two pages and the confirming GET: {made:?}");
    assert_eq!(count(&made, &mi_id("g", "gone")), 1);
}

#[tokio::test]
async fn existence_checks_under_a_parent_that_does_not_exist_cost_one_request() {
    let sim = sim().await;
    let p = provider(&sim);
    let checks: Vec<Prior> = (0..4)
        .map(|i| {
            planned(
                &p,
                MI_T,
                json!({"name": format!("mi-{i}"), "parent": rg_id("not-yet"), "location": "eastus"}),
            )
        })
        .collect();
    assert!(checks.iter().all(|c| c.id.is_some()));
    let (answers, made) = both_ways(&sim, &p, MI_T, &checks).await;
    assert!(answers.iter().all(|a| matches!(a, Ok(None))), "{answers:?}");
    assert_eq!(made.len(), 1, "{made:?}");
    assert_eq!(made[0].status, 404);

    // Credentials of an identity that does not exist yet, in a group that does.
    group(&p, "g").await;
    let parent = mi_id("g", "later");
    let fics: Vec<Prior> = ["fic-a", "fic-b"]
        .iter()
        .map(|n| {
            planned(
                &p,
                FIC_T,
                json!({"name": n, "parent": parent, "body": {"properties": {
                    "issuer": "https://issuer.example", "subject": format!("system:serviceaccount:ns:{n}"),
                    "audiences": ["api://AzureADTokenExchange"]}}}),
            )
        })
        .collect();
    let (answers, made) = both_ways(&sim, &p, FIC_T, &fics).await;
    assert!(answers.iter().all(|a| matches!(a, Ok(None))), "{answers:?}");
    assert_eq!(made.len(), 1, "{made:?}");
    assert_eq!(made[0].status, 404);
}

#[tokio::test]
async fn role_assignments_in_a_group_are_one_list_matched_by_id_beside_inherited_ones() {
    let sim = sim().await;
    let p = provider(&sim);
    group(&p, "g").await;
    let principal = |o: &Observed| {
        o.attributes
            .get(&plinth_testkit::path("properties.principalId"))
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap()
    };
    let a = principal(&identity(&p, "g", "mi-a").await);
    let b = principal(&identity(&p, "g", "mi-b").await);
    let ra = |scope: &str, role: &str, pid: &str| json!({"parent": scope, "body": {"properties": {"roleDefinitionId": role, "principalId": pid}}});
    let sub = format!("/subscriptions/{SUB}");
    let on_b = mi_id("g", "mi-b");
    // Inherited by the group: assigned at the subscription, same role and principal.
    create(&p, RA_T, ra(&sub, OWNER, &a)).await;
    create(&p, RA_T, ra(&rg_id("g"), OWNER, &a)).await;
    // At a resource of the group.
    create(&p, RA_T, ra(&on_b, READER, &b)).await;
    let checks = vec![
        planned(&p, RA_T, ra(&rg_id("g"), OWNER, &a)),
        planned(&p, RA_T, ra(&on_b, READER, &b)),
        // Not assigned at the group (only above it): absent (the list came in one page).
        planned(&p, RA_T, ra(&rg_id("g"), READER, &a)),
    ];
    let (answers, made) = both_ways_as(&sim, &p, RA_T, &checks, false).await;
    assert_eq!(found(&answers), 2);
    assert!(matches!(answers[2], Ok(None)));
    // One list of the group, without a filter (at, above and below it).
    let coll = format!(
        "{}/providers/Microsoft.Authorization/roleAssignments",
        rg_id("g")
    );
    assert_eq!(count(&made, &coll), 1, "{made:?}");
    assert!(
        made[0]
            .query
            .as_deref()
            .is_some_and(|q| !q.contains("filter")),
        "{:?}",
        made[0].query
    );
    assert_eq!(made.len(), 1, "the list alone: {made:?}");
    for (a, scope) in answers.iter().zip([rg_id("g"), on_b.clone()]) {
        let o = a.as_ref().unwrap().as_ref().unwrap();
        assert_eq!(
            o.attributes
                .get(&plinth_testkit::path("properties.scope"))
                .and_then(|v| v.as_str().map(str::to_ascii_lowercase)),
            Some(scope.to_ascii_lowercase())
        );
    }

    // At the subscription: its list at the scope and above (not all of the subscription's).
    create(&p, RA_T, ra(&sub, READER, &b)).await;
    let checks = vec![
        planned(&p, RA_T, ra(&sub, OWNER, &a)),
        planned(&p, RA_T, ra(&sub, READER, &b)),
    ];
    let (answers, made) = both_ways_as(&sim, &p, RA_T, &checks, false).await;
    assert_eq!(found(&answers), 2);
    assert_eq!(made.len(), 1, "{made:?}");
    assert!(
        made[0]
            .query
            .as_deref()
            .is_some_and(|q| q.contains("atScope")),
        "{:?}",
        made[0].query
    );
}

#[tokio::test]
async fn resource_groups_are_listed_from_the_subscription_and_aks_is_read_alone() {
    let sim = sim().await;
    let p = provider(&sim);
    group(&p, "one").await;
    group(&p, "two").await;
    let priors = vec![
        prior_of(&rg_id("one")),
        prior_of(&rg_id("two")),
        prior_of(&rg_id("three")),
    ];
    let (answers, made) = both_ways_as(&sim, &p, RG_T, &priors, false).await;
    assert_eq!(found(&answers), 2);
    assert_eq!(
        count(&made, &format!("/subscriptions/{SUB}/resourceGroups")),
        1
    );
    assert_eq!(made.len(), 1, "{made:?}");
    let aks = "Microsoft.ContainerService/managedClusters@2025-10-01";
    let req = Request::new(aks, "x", &NullReporter);
    let prior = prior_of(&format!(
        "{}/providers/Microsoft.ContainerService/managedClusters/k",
        rg_id("one")
    ));
    assert_eq!(p.batch_key(&req, &prior), None);
}

/// A list read page by page is no snapshot: an object deleted between two pages shifts the
/// next page, and an object that existed all along is not on any page. It is read with its
/// own GET, not called gone.
#[tokio::test]
async fn an_object_skipped_by_drift_between_pages_is_still_found() {
    let sim = sim().await;
    let p = provider(&sim);
    group(&p, "g").await;
    for i in 0..6 {
        identity(&p, "g", &format!("mi-{i}")).await;
    }
    set_config(&sim, json!({"page_size": 2})).await;
    let coll = format!(
        "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities",
        rg_id("g")
    );
    // After the first page (mi-0, mi-1), mi-0 goes: the second page starts at mi-3.
    let resp = reqwest::Client::new()
        .post(format!("{}/_sim/hooks", sim.url))
        .json(&json!({"prefix": coll, "exact": true, "after": 1, "id": mi_id("g", "mi-0"), "delete": true}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let priors: Vec<Prior> = (1..6)
        .map(|i| prior_of(&mi_id("g", &format!("mi-{i}"))))
        .collect();
    let (answers, made) = both_ways(&sim, &p, MI_T, &priors).await;
    assert_eq!(found(&answers), 5, "{answers:?}");
    assert_eq!(count(&made, &coll), 3, "{made:?}");
    assert_eq!(count(&made, &mi_id("g", "mi-2")), 1, "{made:?}");
    assert_eq!(made.len(), 4);
}
