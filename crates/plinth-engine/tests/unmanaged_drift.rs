//! Drift in what the configuration does not set (issue 18 item 8): reported apart as
//! `Drift::unmanaged_paths`, never planned back, recorded by the apply whose plan showed it;
//! what the provider knows to be volatile never reported; `lifecycle.manage` opting an
//! attribute into enforcement (planned back to the value plinth last applied or state last
//! recorded, as drift).
//!
//! `arm:thing` below is an ARM-shaped provider: the configuration sets `body.properties.x`,
//! the object reports `properties.x`; an update is a PUT (what the body leaves out takes the
//! service's default); `etag` and `properties.provisioningState` are the service's own,
//! `properties.serviceBusEndpoint` computed by it and read-only (no input sets it).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use plinth_plan::{Action, Drift, Plan, PlanMode, ResourceChange};
use plinth_provider::{
    InputSchema, Observed, Planned, Prior, Provider, ProviderError, Request, TypeSchema, ValueKind,
    diff,
};
use plinth_testkit::{Engine, Harness, action, path};
use plinth_value::{Path, PathSeg, Value};
use serde_json::{Value as J, json};

#[derive(Clone, Default)]
struct Arm {
    store: Arc<Mutex<BTreeMap<String, J>>>,
    fail_updates: Arc<Mutex<bool>>,
    etags: Arc<Mutex<u64>>,
    /// The body of every create and update, in order.
    puts: Arc<Mutex<Vec<J>>>,
}

impl Arm {
    fn object(&self, id: &str) -> J {
        self.store.lock().unwrap()[id].clone()
    }

    /// Someone changes the object outside plinth: `f` edits its JSON; the service bumps
    /// its etag, as ARM does on every write.
    fn outside(&self, id: &str, f: impl FnOnce(&mut J)) {
        let mut store = self.store.lock().unwrap();
        let o = store.get_mut(id).unwrap();
        f(o);
        o["etag"] = json!(self.next_etag());
    }

    fn next_etag(&self) -> String {
        let mut n = self.etags.lock().unwrap();
        *n += 1;
        format!("etag-{n}")
    }

    /// The object a PUT of `config` makes: the body's properties, the service's defaults
    /// for what it leaves out, the service's bookkeeping.
    fn put(&self, config: &Value) -> (String, J) {
        let c = config.unmark_all().to_json();
        self.puts.lock().unwrap().push(c["body"].clone());
        let name = c["name"].as_str().unwrap_or("x").to_string();
        let id = format!("/things/{name}");
        let mut props = c["body"]["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        props.entry("minimumTlsVersion").or_insert(json!("1.2"));
        props.insert("provisioningState".into(), json!("Succeeded"));
        props.insert(
            "serviceBusEndpoint".into(),
            json!(format!("https://{name}.example:443/")),
        );
        let mut o = json!({"id": id, "name": name, "etag": self.next_etag(), "properties": props});
        // ARM reads a null as absent.
        if let Some(tags) = c.get("tags").filter(|t| !t.is_null()) {
            o["tags"] = tags.clone();
        }
        (id, o)
    }
}

/// `body.x` is reported as `x`; `name` and `tags` as themselves.
fn to_attr(input: &Path) -> Option<Path> {
    match input.segments() {
        [PathSeg::Key(b), rest @ ..] if b == "body" && !rest.is_empty() => {
            Some(Path::from_segments(rest.to_vec()))
        }
        [PathSeg::Key(k), ..] if k == "name" || k == "tags" => Some(input.clone()),
        _ => None,
    }
}

fn to_input(attr: &Path) -> Option<Path> {
    match attr.segments() {
        [PathSeg::Key(k), ..] if k == "name" || k == "tags" => Some(attr.clone()),
        [PathSeg::Key(k), ..] if k == "id" || k == "etag" => None,
        [PathSeg::Key(p), PathSeg::Key(k), ..]
            if p == "properties" && k == "serviceBusEndpoint" =>
        {
            None
        }
        [] => None,
        segs => {
            let mut v = vec![PathSeg::Key("body".into())];
            v.extend_from_slice(segs);
            Some(Path::from_segments(v))
        }
    }
}

/// The configuration as the object would report it.
fn as_attributes(config: &Value) -> Value {
    let mut out = Value::Map(Default::default());
    for leaf in config.leaf_paths() {
        if let (Some(a), Some(v)) = (to_attr(&leaf), config.get(&leaf)) {
            out.set(&a, v);
        }
    }
    out
}

#[async_trait]
impl Provider for Arm {
    fn name(&self) -> &str {
        "arm"
    }

    fn schema(&self, type_name: &str) -> Option<TypeSchema> {
        (type_name == "thing").then(|| TypeSchema {
            type_name: "arm:thing".into(),
            description: "an ARM-shaped object".into(),
            inputs: vec![
                InputSchema::new("name", ValueKind::String, true, "its name"),
                InputSchema::new("tags", ValueKind::Map, false, "tags"),
                InputSchema::new("body", ValueKind::Map, false, "the body"),
            ],
            open: false,
            computed: vec![path("id"), path("etag")],
            managed: true,
            ..Default::default()
        })
    }

    fn type_names(&self) -> Vec<String> {
        vec!["thing".into()]
    }

    fn planned_id(&self, _type_name: &str, config: &Value) -> Option<String> {
        config
            .get(&path("name"))
            .and_then(|n| n.as_str().map(|n| format!("/things/{n}")))
    }

    async fn plan(
        &self,
        _req: &Request<'_>,
        prior: Option<&Prior>,
        config: &Value,
    ) -> Result<Planned, ProviderError> {
        let want = as_attributes(config);
        let Some(prior) = prior else {
            return Ok(Planned {
                attributes: want,
                ..Default::default()
            });
        };
        let changed = diff::changed_paths(&want, &prior.attributes, &diff::ExactEq)
            .iter()
            .filter_map(to_input)
            .collect();
        Ok(Planned {
            attributes: diff::overlay(&prior.attributes, &want),
            changed,
            requires_replace: vec![],
        })
    }

    async fn read(
        &self,
        _req: &Request<'_>,
        prior: &Prior,
    ) -> Result<Option<Observed>, ProviderError> {
        let id = prior.id.clone().unwrap_or_default();
        Ok(self.store.lock().unwrap().get(&id).map(|o| Observed {
            id: Some(id),
            attributes: Value::from(o.clone()),
        }))
    }

    async fn create(&self, _req: &Request<'_>, config: &Value) -> Result<Observed, ProviderError> {
        let (id, o) = self.put(config);
        self.store.lock().unwrap().insert(id.clone(), o.clone());
        Ok(Observed {
            id: Some(id),
            attributes: Value::from(o),
        })
    }

    async fn update(
        &self,
        req: &Request<'_>,
        _prior: &Prior,
        config: &Value,
    ) -> Result<Observed, ProviderError> {
        if *self.fail_updates.lock().unwrap() {
            return Err(ProviderError::with_code(
                "Conflict",
                format!("{} is busy", req.address),
            ));
        }
        self.create(req, config).await
    }

    async fn delete(&self, _req: &Request<'_>, prior: &Prior) -> Result<(), ProviderError> {
        if let Some(id) = &prior.id {
            self.store.lock().unwrap().remove(id);
        }
        Ok(())
    }

    fn attribute_path(&self, _type_name: &str, input_path: &Path) -> Option<Path> {
        to_attr(input_path)
    }

    fn input_path(&self, _type_name: &str, attribute_path: &Path) -> Option<Path> {
        to_input(attribute_path)
    }

    fn is_volatile(&self, _type_name: &str, attribute_path: &Path) -> bool {
        attribute_path.starts_with(&path("etag"))
            || attribute_path.starts_with(&path("properties.provisioningState"))
    }
}

const ID: &str = "/things/sb";

fn arm(toml: &str) -> (Arm, Engine) {
    let p = Arm::default();
    let e = Engine::with_providers(toml, [Arc::new(p.clone()) as Arc<dyn Provider>]);
    (p, e)
}

fn sb(extra: &str) -> String {
    format!(
        r#"
[resource.sb]
type = "arm:thing"
name = "sb"
body = {{ properties = {{ disableLocalAuth = true }} }}
{extra}
"#
    )
}

fn drift_of<'p>(plan: &'p Plan, address: &str) -> &'p Drift {
    plan.drift
        .iter()
        .find(|d| d.address == address)
        .unwrap_or_else(|| panic!("no drift of {address}: {:#?}", plan.drift))
}

fn strings(paths: &[Path]) -> Vec<String> {
    paths.iter().map(Path::to_string).collect()
}

/// The changed paths of a change as attribute paths (whichever language the plan uses).
fn changed_attributes(c: &ResourceChange) -> Vec<String> {
    c.changed_paths
        .iter()
        .map(|p| c.attribute_path(p).to_string())
        .collect()
}

fn tls(p: &Arm) -> J {
    p.object(ID)["properties"]["minimumTlsVersion"].clone()
}

#[tokio::test]
async fn a_tls_downgrade_is_reported_as_unmanaged_and_not_planned_back() {
    let (p, e) = arm(&sb(""));
    e.up().await;
    e.assert_converged_without_drift().await;
    p.outside(ID, |o| {
        o["properties"]["minimumTlsVersion"] = json!("1.0");
        o["properties"]["provisioningState"] = json!("Updating");
    });
    let plan = e.plan().await;
    let d = drift_of(&plan, "sb");
    assert_eq!(d.action, Action::Update);
    assert!(d.changed_paths.is_empty(), "{:?}", d.changed_paths);
    // The volatile etag and provisioning state changed too: not reported.
    assert_eq!(
        strings(&d.unmanaged_paths),
        ["properties.minimumTlsVersion"]
    );
    assert!(d.is_reportable());
    assert_eq!(action(&plan, "sb"), Action::NoOp);
    assert!(!plan.has_changes());

    // A plan writes nothing: the next one reports it again.
    let again = e.plan().await;
    assert_eq!(
        strings(&drift_of(&again, "sb").unmanaged_paths),
        ["properties.minimumTlsVersion"]
    );

    // The apply of a plan that showed it records it (and leaves the object alone) ...
    e.apply_ok(&again).await;
    assert_eq!(tls(&p), json!("1.0"));
    let rec = &e.state().resources["sb"].attributes;
    assert_eq!(rec["properties"]["minimumTlsVersion"], json!("1.0"));
    // ... but not what it did not show: the volatile paths keep their recorded values.
    assert_eq!(rec["properties"]["provisioningState"], json!("Succeeded"));
    assert_ne!(rec["etag"], p.object(ID)["etag"]);
    // So the drift was shown once: the next plan shows nothing.
    e.assert_converged().await;
}

#[tokio::test]
async fn changes_only_the_service_makes_are_not_reported() {
    let (p, e) = arm(&sb(""));
    e.up().await;
    p.outside(ID, |o| {
        o["properties"]["provisioningState"] = json!("Updating")
    });
    let plan = e.plan().await;
    assert!(
        plan.drift.iter().all(|d| !d.is_reportable()),
        "{:#?}",
        plan.drift
    );
    assert!(plan.drift.iter().all(|d| d.unmanaged_paths.is_empty()));
    e.assert_converged().await;
}

#[tokio::test]
async fn a_label_added_by_hand_is_unmanaged_unless_the_configuration_owns_the_map() {
    // The configuration sets no tags: a tag added by hand is not managed here.
    let (p, e) = arm(&sb(""));
    e.up().await;
    p.outside(ID, |o| o["tags"] = json!({"owner": "mallory"}));
    let plan = e.plan().await;
    let d = drift_of(&plan, "sb");
    assert!(d.changed_paths.is_empty());
    assert_eq!(strings(&d.unmanaged_paths), ["tags"]);
    assert_eq!(action(&plan, "sb"), Action::NoOp);

    // It owns the whole map: a key added there is drift it plans back, not "unmanaged".
    let (p, e) = arm(&sb("tags = { env = \"dev\" }"));
    e.up().await;
    p.outside(ID, |o| o["tags"]["owner"] = json!("mallory"));
    let plan = e.plan().await;
    let d = drift_of(&plan, "sb");
    assert_eq!(strings(&d.changed_paths), ["tags.owner"]);
    assert!(d.unmanaged_paths.is_empty());
}

#[tokio::test]
async fn a_value_removed_outside_is_unmanaged_too() {
    // The OIDC issuer URL of a cluster, removed: a value the configuration does not set.
    let (p, e) = arm(&sb(""));
    e.up().await;
    p.outside(ID, |o| {
        o["properties"]["oidcIssuerProfile"] = json!({"issuerURL": "https://issuer/1"})
    });
    // State first follows the object (a refresh-only apply records what is there) ...
    let plan = e.plan_mode(PlanMode::RefreshOnly).await;
    let d = drift_of(&plan, "sb");
    // A refresh-only plan lists every change as what it records, none apart.
    assert_eq!(
        strings(&d.changed_paths),
        ["etag", "properties.oidcIssuerProfile"]
    );
    assert!(d.unmanaged_paths.is_empty());
    e.apply_ok(&plan).await;
    // ... then someone removes the URL.
    p.outside(ID, |o| {
        o["properties"]["oidcIssuerProfile"]
            .as_object_mut()
            .unwrap()
            .remove("issuerURL");
    });
    let plan = e.plan().await;
    assert_eq!(
        strings(&drift_of(&plan, "sb").unmanaged_paths),
        ["properties.oidcIssuerProfile.issuerURL"]
    );
    assert_eq!(action(&plan, "sb"), Action::NoOp);
}

/// Tags Azure Policy adds to an object whose configuration ignores them are not "changed
/// outside plinth, not managed here" on every plan: ignoring them says they are someone
/// else's. An update of something else keeps them (state takes the values found, and the
/// PUT sends them back).
#[tokio::test]
async fn changes_under_ignore_changes_are_not_reported_as_unmanaged() {
    let (p, mut e) = arm(&sb(r#"lifecycle = { ignore_changes = ["tags"] }"#));
    e.up().await;
    p.outside(ID, |o| o["tags"] = json!({"createdBy": "policy"}));
    let plan = e.plan().await;
    assert!(
        plan.drift.iter().all(|d| !d.is_reportable()),
        "{:#?}",
        plan.drift
    );
    assert_eq!(action(&plan, "sb"), Action::NoOp);
    e.apply_ok(&plan).await;
    assert_eq!(
        e.state().resources["sb"].attributes["tags"],
        json!({"createdBy": "policy"}),
        "state follows the object where the configuration lets others change it"
    );

    // Another change is planned as usual; the tags go back in the PUT, untouched.
    e.set_config(
        r#"
[resource.sb]
type = "arm:thing"
name = "sb"
body = { properties = { disableLocalAuth = false } }
lifecycle = { ignore_changes = ["tags"] }
"#,
    );
    p.outside(ID, |o| o["tags"]["costCenter"] = json!("42"));
    let plan = e.plan().await;
    let c = plan.change("sb").unwrap();
    assert_eq!(c.action, Action::Update);
    assert_eq!(changed_attributes(c), ["properties.disableLocalAuth"]);
    assert!(plan.drift.iter().all(|d| d.unmanaged_paths.is_empty()));
    e.apply_ok(&plan).await;
    assert_eq!(
        p.object(ID)["tags"],
        json!({"createdBy": "policy", "costCenter": "42"})
    );
    e.assert_converged().await;
}

/// An ignored path inside a map: a map added with only ignored keys in it is not reported;
/// with another key beside them it is, and so is everything else that changed.
#[tokio::test]
async fn only_what_ignore_changes_covers_is_left_out() {
    let (p, e) = arm(&sb(
        r#"lifecycle = { ignore_changes = ["tags.createdBy"] }"#,
    ));
    e.up().await;
    p.outside(ID, |o| o["tags"] = json!({"createdBy": "policy"}));
    let plan = e.plan().await;
    assert!(
        plan.drift.iter().all(|d| !d.is_reportable()),
        "{:#?}",
        plan.drift
    );

    p.outside(ID, |o| {
        o["tags"]["owner"] = json!("mallory");
        o["properties"]["minimumTlsVersion"] = json!("1.0");
    });
    let plan = e.plan().await;
    assert_eq!(
        strings(&drift_of(&plan, "sb").unmanaged_paths),
        ["properties.minimumTlsVersion", "tags"]
    );
}

/// `ignore_changes = "all"`: every change to the object is its own business, so nothing is
/// reported as not managed here.
#[tokio::test]
async fn ignore_changes_all_reports_no_unmanaged_drift() {
    let (p, e) = arm(&sb(r#"lifecycle = { ignore_changes = "all" }"#));
    e.up().await;
    p.outside(ID, |o| {
        o["properties"]["minimumTlsVersion"] = json!("1.0");
        o["tags"] = json!({"owner": "mallory"});
    });
    let plan = e.plan().await;
    assert!(
        plan.drift.iter().all(|d| d.unmanaged_paths.is_empty()),
        "{:#?}",
        plan.drift
    );
    assert_eq!(action(&plan, "sb"), Action::NoOp);
}

/// A delete interrupted before it reached the object leaves a pending record; the next plan
/// settles it (the object exists) and reports what changed on it outside plinth as on any
/// other object: in `unmanaged_paths`, which renderings show, and which the apply records.
#[tokio::test]
async fn a_settled_record_reports_and_records_its_unmanaged_drift() {
    let (p, mut e) = arm(&sb(""));
    e.up().await;
    let mut state = e.state();
    state.resources.get_mut("sb").unwrap().status = plinth_state::Status::PendingDelete;
    e.backend = plinth_state::MemoryBackend::with_state(state);
    p.outside(ID, |o| o["properties"]["minimumTlsVersion"] = json!("1.0"));
    let plan = e.plan().await;
    let d = drift_of(&plan, "sb");
    assert!(d.reconciled);
    assert_eq!(
        strings(&d.unmanaged_paths),
        ["properties.minimumTlsVersion"]
    );
    assert_eq!(action(&plan, "sb"), Action::NoOp);
    e.apply_ok(&plan).await;
    let rec = &e.state().resources["sb"];
    assert_eq!(rec.status, plinth_state::Status::Created);
    assert_eq!(
        rec.attributes["properties"]["minimumTlsVersion"],
        json!("1.0")
    );
    e.assert_converged().await;
}

#[tokio::test]
async fn a_destroy_plan_does_not_report_unmanaged_drift() {
    let (p, e) = arm(&sb(""));
    e.up().await;
    p.outside(ID, |o| o["properties"]["minimumTlsVersion"] = json!("1.0"));
    let plan = e.plan_mode(PlanMode::Destroy).await;
    assert!(
        plan.drift.iter().all(|d| d.unmanaged_paths.is_empty()),
        "{:#?}",
        plan.drift
    );
}

#[tokio::test]
async fn manage_plans_the_downgrade_back_as_drift_and_converges() {
    let (p, e) = arm(&sb(
        "lifecycle = { manage = [\"properties.minimumTlsVersion\"] }",
    ));
    e.up().await;
    e.assert_converged().await;
    p.outside(ID, |o| o["properties"]["minimumTlsVersion"] = json!("1.0"));
    let plan = e.plan().await;
    let d = drift_of(&plan, "sb");
    assert_eq!(strings(&d.changed_paths), ["properties.minimumTlsVersion"]);
    assert!(d.unmanaged_paths.is_empty());
    let c = plan.change("sb").unwrap();
    assert_eq!(c.action, Action::Update);
    assert!(c.drift, "the update undoes a change made outside plinth");
    assert_eq!(changed_attributes(c), ["properties.minimumTlsVersion"]);
    e.apply_ok(&plan).await;
    assert_eq!(tls(&p), json!("1.2"));
    // Apply recorded the pinned value with the inputs it applied.
    let inputs = &e.state().resources["sb"].inputs;
    assert_eq!(
        inputs["body"]["properties"]["minimumTlsVersion"],
        json!("1.2")
    );
    e.assert_converged_without_drift().await;
}

#[tokio::test]
async fn manage_restores_the_value_plinth_last_applied_not_the_services_default() {
    // The configuration set TLS 1.3; it stops setting it and manages it instead.
    let (p, mut e) = arm(r#"
[resource.sb]
type = "arm:thing"
name = "sb"
body = { properties = { disableLocalAuth = true, minimumTlsVersion = "1.3" } }
"#);
    e.up().await;
    assert_eq!(tls(&p), json!("1.3"));
    e.set_config(&sb(
        "lifecycle = { manage = [\"properties.minimumTlsVersion\"] }",
    ));
    // Managing what is there is no change.
    let plan = e.plan().await;
    assert_eq!(
        action(&plan, "sb"),
        Action::NoOp,
        "{:#?}",
        plan.change("sb")
    );
    p.outside(ID, |o| o["properties"]["minimumTlsVersion"] = json!("1.0"));
    let plan = e.plan().await;
    assert_eq!(action(&plan, "sb"), Action::Update);
    // Apply evaluates the configuration again, which does not set TLS: the value comes
    // from the plan (a PUT without it would get the service's default, 1.2).
    e.apply_ok(&plan).await;
    assert_eq!(tls(&p), json!("1.3"));
    e.assert_converged_without_drift().await;
}

#[tokio::test]
async fn a_failed_update_does_not_let_the_drifted_value_become_the_managed_one() {
    let (p, e) = arm(&sb(
        "lifecycle = { manage = [\"properties.minimumTlsVersion\"] }",
    ));
    e.up().await;
    // An update records the pinned value with its inputs.
    p.outside(ID, |o| o["properties"]["minimumTlsVersion"] = json!("1.1"));
    e.apply_ok(&e.plan().await).await;
    assert_eq!(tls(&p), json!("1.2"));

    p.outside(ID, |o| o["properties"]["minimumTlsVersion"] = json!("1.0"));
    *p.fail_updates.lock().unwrap() = true;
    let plan = e.plan().await;
    let report = e.apply(&plan).await;
    assert!(!report.ok());
    // The refresh the plan showed was written (state says 1.0) ...
    assert_eq!(
        e.state().resources["sb"].attributes["properties"]["minimumTlsVersion"],
        json!("1.0")
    );
    // ... yet the next plan still puts back what plinth applied.
    *p.fail_updates.lock().unwrap() = false;
    let plan = e.plan().await;
    let c = plan.change("sb").unwrap();
    assert!(
        matches!(c.action, Action::Update | Action::Replace),
        "{c:#?}"
    );
    e.apply_ok(&plan).await;
    assert_eq!(tls(&p), json!("1.2"));
    e.assert_converged().await;
}

#[tokio::test]
async fn manage_takes_away_a_key_added_under_a_managed_map() {
    let (p, e) = arm(&sb("lifecycle = { manage = [\"tags\"] }"));
    e.up().await;
    p.outside(ID, |o| o["tags"] = json!({"owner": "mallory"}));
    let plan = e.plan().await;
    let d = drift_of(&plan, "sb");
    assert_eq!(strings(&d.changed_paths), ["tags"]);
    let c = plan.change("sb").unwrap();
    assert_eq!(c.action, Action::Update);
    assert!(c.drift);
    e.apply_ok(&plan).await;
    assert!(p.object(ID).get("tags").is_none(), "{}", p.object(ID));
    e.assert_converged_without_drift().await;
}

/// A managed map pinned from what state recorded holds what the service computes too: only
/// the leaves an input sets go into the PUT, never a read-only one (the endpoint) or one the
/// service owns (the provisioning state).
#[tokio::test]
async fn manage_of_a_map_puts_back_only_what_an_input_can_set() {
    let (p, e) = arm(r#"
[resource.sb]
type = "arm:thing"
name = "sb"
lifecycle = { manage = ["properties"] }
"#);
    e.up().await;
    e.assert_converged().await;
    p.outside(ID, |o| o["properties"]["minimumTlsVersion"] = json!("1.0"));
    let plan = e.plan().await;
    assert_eq!(
        strings(&drift_of(&plan, "sb").changed_paths),
        ["properties.minimumTlsVersion"]
    );
    let c = plan.change("sb").unwrap();
    assert_eq!(c.action, Action::Update);
    assert!(c.drift);
    p.puts.lock().unwrap().clear();
    e.apply_ok(&plan).await;
    let puts = p.puts.lock().unwrap().clone();
    assert_eq!(
        puts,
        [json!({"properties": {"minimumTlsVersion": "1.2"}})],
        "one PUT, with the managed setting and nothing the service computes"
    );
    assert_eq!(tls(&p), json!("1.2"));
    assert_eq!(
        p.object(ID)["properties"]["serviceBusEndpoint"],
        json!("https://sb.example:443/")
    );
    e.assert_converged_without_drift().await;

    // The service changing its read-only endpoint is not planned back (nothing could set
    // it): it is not managed here.
    p.outside(ID, |o| {
        o["properties"]["serviceBusEndpoint"] = json!("https://sb.other:443/")
    });
    let plan = e.plan().await;
    let d = drift_of(&plan, "sb");
    assert!(d.changed_paths.is_empty(), "{:?}", d.changed_paths);
    assert_eq!(
        strings(&d.unmanaged_paths),
        ["properties.serviceBusEndpoint"]
    );
    assert_eq!(action(&plan, "sb"), Action::NoOp);
}

#[tokio::test]
async fn manage_of_a_path_the_configuration_sets_is_redundant_and_harmless() {
    let (p, e) = arm(r#"
[resource.sb]
type = "arm:thing"
name = "sb"
body = { properties = { minimumTlsVersion = "1.2" } }
lifecycle = { manage = ["properties.minimumTlsVersion"] }
"#);
    e.up().await;
    e.assert_converged().await;
    p.outside(ID, |o| o["properties"]["minimumTlsVersion"] = json!("1.0"));
    let plan = e.plan().await;
    let c = plan.change("sb").unwrap();
    assert_eq!(c.action, Action::Update);
    assert!(c.drift);
    assert_eq!(changed_attributes(c), ["properties.minimumTlsVersion"]);
    e.apply_ok(&plan).await;
    assert_eq!(tls(&p), json!("1.2"));
    e.assert_converged().await;
}

async fn plan_error(e: &Engine) -> String {
    match e.try_plan().await {
        Ok(p) => panic!("planned: {:#?}", p.changes),
        Err(d) => e.render(&d),
    }
}

#[tokio::test]
async fn manage_paths_are_validated_with_located_errors() {
    let (_, e) = arm(&sb(
        r#"lifecycle = { manage = ["properties.minimumTlsVersion", "etag", "id"], ignore_changes = ["body.properties.minimumTlsVersion"] }"#,
    ));
    let out = plan_error(&e).await;
    assert!(
        out.contains("`properties.minimumTlsVersion` is in both `manage` and `ignore_changes`"),
        "{out}"
    );
    assert!(
        out.contains("`manage` names `etag`, which the service changes by itself"),
        "{out}"
    );
    assert!(
        out.contains("`manage` names `id`, which no input of arm:thing sets"),
        "{out}"
    );
    // Located: each message points into main.toml at its line.
    assert_eq!(out.matches("main.toml:6:").count(), 3, "{out}");

    let (_, e) = arm(&sb(
        r#"lifecycle = { manage = ["tags"], ignore_changes = "all" }"#,
    ));
    let out = plan_error(&e).await;
    assert!(
        out.contains("has both `manage` and ignore_changes = \"all\""),
        "{out}"
    );
}

#[tokio::test]
async fn a_misspelt_manage_path_is_caught_against_the_object() {
    let (_, mut e) = arm(&sb(""));
    e.up().await;
    e.set_config(&sb(
        "lifecycle = { manage = [\"properties.minimumTLSVersion\"] }",
    ));
    let out = plan_error(&e).await;
    assert!(
        out.contains(
            "`lifecycle.manage` names `properties.minimumTLSVersion`, which `sb` does not have"
        ),
        "{out}"
    );
    assert!(
        out.contains("did you mean `properties.minimumTlsVersion`?"),
        "{out}"
    );
    // An attribute the object does not have yet, with no near miss, is fine: managing it
    // keeps it absent.
    e.set_config(&sb(
        "lifecycle = { manage = [\"properties.zoneRedundant\"] }",
    ));
    let plan = e.plan().await;
    assert_eq!(action(&plan, "sb"), Action::NoOp);
}

#[test]
fn manage_is_decoded_with_located_errors() {
    let load = |text: &str| {
        let mut sources = plinth_config::Sources::new();
        sources.add("main.toml".into(), "main.toml".into(), text.to_string());
        match plinth_config::load_sources(sources) {
            Ok(c) => Ok(c.resources[0]
                .lifecycle
                .manage
                .iter()
                .map(|(p, _)| p.to_string())
                .collect::<Vec<_>>()),
            Err((s, d)) => Err(d.render(&s, false)),
        }
    };
    assert_eq!(
        load(&sb(
            "lifecycle = { manage = [\"properties.minimumTlsVersion\", \"tags\"] }"
        )),
        Ok(vec![
            "properties.minimumTlsVersion".to_string(),
            "tags".to_string()
        ])
    );
    let err = load(&sb("lifecycle = { manage = \"tags\" }")).unwrap_err();
    assert!(
        err.contains("`manage` must be a list of paths, found string"),
        "{err}"
    );
    let err = load(&sb("lifecycle = { manage = [\"\"] }")).unwrap_err();
    assert!(err.contains("an empty path in `manage`"), "{err}");
    let err = load(&sb("lifecycle = { manage = [\"tags\", \"tags\"] }")).unwrap_err();
    assert!(err.contains("`tags` is listed twice in `manage`"), "{err}");
    let err = load(&sb("lifecycle = { manage = [1] }")).unwrap_err();
    assert!(
        err.contains("`manage` items must be strings, found integer"),
        "{err}"
    );
    let err = load(&sb("lifecycle = { mange = [\"tags\"] }")).unwrap_err();
    assert!(err.contains("manage"), "{err}");
}

#[tokio::test]
async fn the_fake_providers_unset_attributes_are_unmanaged_and_its_etag_volatile() {
    let h = Harness::new(
        r#"
[resource.x]
type = "fake:thing"
name = "x"
value = "declared"
"#,
    );
    h.up().await;
    let id = h.id("x");
    h.fake.mutate(&id, "arn", json!("arn:fake:by-hand"));
    h.fake.mutate(&id, "etag", json!("changed-by-the-service"));
    let plan = h.plan().await;
    let d = drift_of(&plan, "x");
    assert!(d.changed_paths.is_empty());
    assert_eq!(strings(&d.unmanaged_paths), ["arn"]);
    assert_eq!(action(&plan, "x"), Action::NoOp);
}
