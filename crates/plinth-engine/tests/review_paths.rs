//! What a plan carries for its reviewer (issue 18 items 4-7): one path language (every path
//! a change names resolves in its `before`/`after`), write-only values shown where they are
//! written, cascades, the service's bookkeeping left out of creates, a change only in what the
//! service owns never an update, and the provider's annotations.
//!
//! The provider here reports its inputs under other paths, as ARM does (`body.tier` is
//! `tier`), keeps `body.password` without ever returning it, owns `version`, `status` and
//! `createdAt`, and says what a `role` id means.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use plinth_plan::{Action, CascadeVia, Plan, ResourceChange};
use plinth_provider::{
    InputSchema, Observed, Planned, Prior, Provider, ProviderError, Request, TypeSchema, ValueKind,
};
use plinth_testkit::{Engine, path};
use plinth_value::{Path, PathSeg, Value};
use serde_json::json;

/// An ARM-like service: inputs under `body`, attributes at the top.
#[derive(Clone)]
struct Service {
    name: &'static str,
    store: Arc<Mutex<BTreeMap<String, serde_json::Value>>>,
}

impl Service {
    fn new(name: &'static str) -> Self {
        Service {
            name,
            store: Arc::default(),
        }
    }

    /// The attributes the service reports for `config`: the body without the password.
    fn reported(config: &Value) -> serde_json::Value {
        let mut body = config
            .get(&path("body"))
            .map(|b| b.unmark_all().to_json())
            .unwrap_or(json!({}));
        body.as_object_mut().unwrap().remove("password");
        body
    }
}

const OWNED: &[&str] = &["version", "status", "createdAt"];

#[async_trait]
impl Provider for Service {
    fn name(&self) -> &str {
        self.name
    }

    fn settings_references(&self) -> &[&str] {
        &["cluster"]
    }

    fn schema(&self, _: &str) -> Option<TypeSchema> {
        Some(TypeSchema {
            type_name: format!("{}:thing", self.name),
            inputs: vec![InputSchema::new("body", ValueKind::Any, true, "")],
            open: false,
            computed: vec![],
            force_new: vec![path("body.location")],
            sensitive: vec![path("body.password")],
            data_source: false,
            managed: true,
            action: false,
            ..Default::default()
        })
    }

    fn type_names(&self) -> Vec<String> {
        vec!["thing".into()]
    }

    fn planned_id(&self, _: &str, config: &Value) -> Option<String> {
        let name = config.get(&path("body.name"))?;
        Some(format!("/things/{}", name.unmarked().as_str()?))
    }

    fn attribute_path(&self, _: &str, input: &Path) -> Option<Path> {
        match input.segments().split_first() {
            Some((PathSeg::Key(k), rest)) if k == "body" => {
                Some(Path::from_segments(rest.to_vec()))
            }
            _ => None,
        }
    }

    fn input_path(&self, _: &str, attribute: &Path) -> Option<Path> {
        let mut segs = vec![PathSeg::Key("body".into())];
        segs.extend(attribute.segments().iter().cloned());
        Some(Path::from_segments(segs))
    }

    fn is_volatile(&self, _: &str, attribute: &Path) -> bool {
        OWNED.iter().any(|o| attribute.starts_with(&path(o)))
    }

    fn annotations(&self, _: &str, attributes: &Value) -> Vec<(Path, String)> {
        match attributes
            .get(&path("role"))
            .as_ref()
            .and_then(Value::as_str)
        {
            Some(id) => vec![(
                path("role"),
                format!("the role called {}", id.to_uppercase()),
            )],
            None => vec![],
        }
    }

    async fn plan(
        &self,
        _: &Request<'_>,
        prior: Option<&Prior>,
        config: &Value,
    ) -> Result<Planned, ProviderError> {
        let body = config.get(&path("body")).unwrap_or(Value::Null);
        let mut after = body.clone();
        after.remove(&path("password"));
        let Some(prior) = prior else {
            for o in OWNED {
                after.set(&path(o), Value::Unknown);
            }
            after.set(&path("id"), Value::Unknown);
            return Ok(Planned {
                attributes: after,
                changed: vec![],
                requires_replace: vec![],
            });
        };
        // A naive diff of every key the body sets, owned ones too, and the password against
        // what was last applied (the service never returns it).
        let mut changed = Vec::new();
        for key in body
            .as_map()
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let attr = path(&key);
            let was = if key == "password" {
                prior.inputs.get(&path("body.password"))
            } else {
                prior.attributes.get(&attr)
            };
            if was.map(|v| v.unmark_all()) != body.get(&attr).map(|v| v.unmark_all()) {
                changed.push(path(&format!("body.{key}")));
            }
        }
        let requires_replace = changed
            .iter()
            .filter(|c| **c == path("body.location"))
            .cloned()
            .collect();
        let mut attributes = prior.attributes.clone();
        for (k, v) in after.as_map().cloned().unwrap_or_default() {
            attributes.set(&path(&k), v);
        }
        if !changed.is_empty() {
            attributes.set(&path("version"), Value::Unknown);
        }
        Ok(Planned {
            attributes,
            changed,
            requires_replace,
        })
    }

    async fn read(
        &self,
        _: &Request<'_>,
        prior: &Prior,
    ) -> Result<Option<Observed>, ProviderError> {
        let id = prior.id.clone().unwrap_or_default();
        Ok(self.store.lock().unwrap().get(&id).map(|a| Observed {
            id: Some(id.clone()),
            attributes: Value::from(a.clone()),
        }))
    }

    async fn create(&self, _: &Request<'_>, config: &Value) -> Result<Observed, ProviderError> {
        let id = self
            .planned_id("thing", config)
            .ok_or_else(|| ProviderError::new("body.name is required"))?;
        let mut attrs = Self::reported(config);
        attrs["id"] = json!(id);
        attrs["version"] = json!(1);
        attrs["status"] = json!({"phase": "Ready"});
        attrs["createdAt"] = json!("2026-12-02T00:00:00Z");
        self.store.lock().unwrap().insert(id.clone(), attrs.clone());
        Ok(Observed {
            id: Some(id),
            attributes: Value::from(attrs),
        })
    }

    async fn update(
        &self,
        _: &Request<'_>,
        prior: &Prior,
        config: &Value,
    ) -> Result<Observed, ProviderError> {
        let id = prior.id.clone().unwrap_or_default();
        let mut store = self.store.lock().unwrap();
        let old = store.get(&id).cloned().unwrap_or(json!({}));
        let mut attrs = Self::reported(config);
        attrs["id"] = json!(id);
        attrs["version"] = json!(old["version"].as_i64().unwrap_or(0) + 1);
        attrs["status"] = old["status"].clone();
        attrs["createdAt"] = old["createdAt"].clone();
        store.insert(id.clone(), attrs.clone());
        Ok(Observed {
            id: Some(id),
            attributes: Value::from(attrs),
        })
    }

    async fn delete(&self, _: &Request<'_>, prior: &Prior) -> Result<(), ProviderError> {
        self.store
            .lock()
            .unwrap()
            .remove(prior.id.as_deref().unwrap_or_default());
        Ok(())
    }
}

fn engine(toml: &str) -> Engine {
    Engine::with_providers(
        toml,
        [
            Arc::new(Service::new("svc")) as Arc<dyn Provider>,
            Arc::new(Service::new("kube")) as Arc<dyn Provider>,
        ],
    )
}

fn change<'a>(plan: &'a Plan, address: &str) -> &'a ResourceChange {
    plan.change(address)
        .unwrap_or_else(|| panic!("no change for {address}"))
}

/// Every path the change names resolves in `before` and `after` (a delete: `before`).
fn assert_paths_resolve(c: &ResourceChange) {
    assert!(c.attribute_paths.is_empty(), "{:?}", c.attribute_paths);
    for p in c.changed_paths.iter().chain(&c.replace_paths) {
        if c.action != Action::Create {
            let before = c.before.as_ref().expect("before");
            assert!(
                before.get(p).is_some(),
                "{p} not in before of {}",
                c.address
            );
        }
        let after = c.after.as_ref().expect("after");
        assert!(after.get(p).is_some(), "{p} not in after of {}", c.address);
    }
    for a in &c.annotations {
        let doc = c.after.as_ref().or(c.before.as_ref()).unwrap();
        assert!(doc.get(&a.path).is_some(), "annotation {} resolves", a.path);
    }
}

fn thing(name: &str, body: &str) -> String {
    format!("[resource.{name}]\ntype = \"svc:thing\"\nbody = {{ name = \"{name}\", {body} }}\n")
}

#[tokio::test]
async fn updates_and_replacements_name_attribute_paths_that_resolve() {
    let mut e = engine(&thing("a", r#"tier = "basic", location = "west""#));
    e.up().await;
    e.set_config(&thing("a", r#"tier = "premium", location = "west""#));
    let plan = e.plan().await;
    let a = change(&plan, "a");
    assert_eq!(a.action, Action::Update);
    assert_eq!(a.changed_paths, vec![path("tier")]);
    assert_paths_resolve(a);
    assert_eq!(
        a.before.as_ref().unwrap().get(&path("tier")),
        Some(Value::from("basic"))
    );
    assert_eq!(
        a.after.as_ref().unwrap().get(&path("tier")),
        Some(Value::from("premium"))
    );

    e.set_config(&thing("a", r#"tier = "basic", location = "east""#));
    let plan = e.plan().await;
    let a = change(&plan, "a");
    assert_eq!(a.action, Action::Replace);
    assert_eq!(a.replace_paths, vec![path("location")]);
    assert_eq!(a.changed_paths, vec![path("location")]);
    assert_paths_resolve(a);
}

#[tokio::test]
async fn a_changed_write_only_secret_is_an_update_of_that_path_in_both_documents() {
    let mut e = engine(&thing("a", r#"password = "${var.pw}""#).replace(
        "[resource.a]",
        "[variable.pw]\ndefault = \"old-Sekrit-1\"\nsensitive = true\n\n[resource.a]",
    ));
    e.up().await;
    // The service never reports it: state's attributes do not hold it.
    assert!(
        e.state().resources["a"]
            .attributes
            .get("password")
            .is_none()
    );
    e.vars
        .insert("pw".into(), Value::sensitive(Value::from("new-Sekrit-2")));
    let plan = e.plan().await;
    let a = change(&plan, "a");
    assert_eq!(a.action, Action::Update);
    assert_eq!(a.changed_paths, vec![path("password")]);
    assert_paths_resolve(a);
    let before = a.before.as_ref().unwrap().get(&path("password")).unwrap();
    let after = a.after.as_ref().unwrap().get(&path("password")).unwrap();
    assert!(before.is_sensitive() && after.is_sensitive());
    assert_eq!(before.unmark_all(), Value::from("old-Sekrit-1"));
    assert_eq!(after.unmark_all(), Value::from("new-Sekrit-2"));
    // Redacted, neither value is anywhere in the plan's JSON.
    let shown = serde_json::to_string(&plan.redacted()).unwrap();
    assert!(!shown.contains("Sekrit"), "{shown}");

    // Unchanged, nothing is planned and nothing is shown.
    e.vars
        .insert("pw".into(), Value::sensitive(Value::from("old-Sekrit-1")));
    assert_eq!(change(&e.plan().await, "a").action, Action::NoOp);
}

#[tokio::test]
async fn a_change_only_in_what_the_service_owns_is_never_an_update() {
    let mut e = engine(&thing("a", r#"tier = "basic""#));
    e.up().await;
    // The configuration names the service's own version (copied from a read, say): the
    // provider's diff says it differs, but the service changes it by itself.
    e.set_config(&thing("a", r#"tier = "basic", version = 7"#));
    let plan = e.plan().await;
    let a = change(&plan, "a");
    assert_eq!(a.action, Action::NoOp, "{:?}", a.changed_paths);
    assert!(a.changed_paths.is_empty());
    // With a real change beside it, only the real change is named.
    e.set_config(&thing("a", r#"tier = "premium", version = 7"#));
    let a = e.plan().await.change("a").unwrap().clone();
    assert_eq!(a.action, Action::Update);
    assert_eq!(a.changed_paths, vec![path("tier")]);
}

#[tokio::test]
async fn creates_leave_out_the_bookkeeping_nothing_reads() {
    let toml = format!(
        "{}{}{}{}",
        thing("a", r#"tier = "basic""#),
        // b reads a's status: it stays in a's plan.
        thing("b", r#"upstream = "${a.status.phase}""#),
        // c[0] and c[1]: one's createdAt is read through an instance key.
        thing("c", r#"tier = "x-${count.index}""#)
            .replace("[resource.c]\n", "[resource.c]\ncount = 2\n")
            .replace("name = \"c\"", "name = \"c${count.index}\""),
        "[output.when]\nvalue = \"${c[1].createdAt}\"\n\n[output.whole]\nvalue = \"${b}\"\n",
    );
    let e = engine(&toml);
    let plan = e.plan().await;
    let a = change(&plan, "a");
    assert_eq!(a.action, Action::Create);
    assert_eq!(a.bookkeeping, vec![path("createdAt"), path("version")]);
    // The whole of b is read by an output: none of it is left out.
    assert!(change(&plan, "b").bookkeeping.is_empty());
    assert_eq!(
        change(&plan, "c[0]").bookkeeping,
        vec![path("status"), path("version")]
    );
    // Every bookkeeping path is unknown in after: renderings leave out only such values.
    for c in &plan.changes {
        for p in &c.bookkeeping {
            assert_eq!(
                c.after.as_ref().unwrap().get(p),
                Some(Value::Unknown),
                "{p}"
            );
        }
    }
    // `id` is unknown too, but the service does not own it as bookkeeping: it is shown.
    assert!(!a.bookkeeping.contains(&path("id")));
}

#[tokio::test]
async fn replacements_caused_by_another_carry_their_cascade_and_plain_reasons() {
    let toml = format!(
        "{}{}[provider.kube]\ncluster = \"a\"\n\n[resource.app]\ntype = \"kube:thing\"\nbody = {{ name = \"app\" }}\n",
        thing("a", r#"location = "west""#),
        thing("b", r#"tier = "basic""#).replace(
            "body =",
            "lifecycle = { replace_triggered_by = [\"a\"] }\nbody ="
        ),
    );
    let mut e = engine(&toml);
    e.up().await;
    e.set_config(&toml.replace("west", "east"));
    let plan = e.plan().await;
    assert_eq!(change(&plan, "a").action, Action::Replace);
    assert_eq!(change(&plan, "a").cascade, None);
    let b = change(&plan, "b");
    assert_eq!(b.action, Action::Replace);
    let cascade = b.cascade.as_ref().expect("b's cascade");
    assert_eq!(
        (cascade.cause.as_str(), cascade.via),
        ("a", CascadeVia::ReplaceTriggeredBy)
    );
    assert_eq!(b.reason.as_deref(), Some("replace_triggered_by: a changes"));
    let app = change(&plan, "app");
    assert_eq!(app.action, Action::Replace);
    let cascade = app.cascade.as_ref().expect("app's cascade");
    assert_eq!(
        (cascade.cause.as_str(), cascade.via),
        ("a", CascadeVia::ProviderSettings)
    );
    assert_eq!(
        app.reason.as_deref(),
        Some("a, which its provider's settings name, is replaced")
    );
    // No reason the engine writes carries Markdown.
    for c in &plan.changes {
        assert!(
            !c.reason.as_deref().unwrap_or("").contains('`'),
            "{:?}",
            c.reason
        );
    }
    // The cascaded replacements leave out what the service will fill in again.
    assert_eq!(
        app.bookkeeping,
        vec![path("createdAt"), path("status"), path("version")]
    );
}

#[tokio::test]
async fn annotations_come_from_the_provider_for_planned_and_deleted_objects() {
    let mut e = engine(&thing("a", r#"role = "r-1""#));
    let plan = e.plan().await;
    let a = change(&plan, "a");
    assert_eq!(a.annotations.len(), 1);
    assert_eq!(a.annotations[0].path, path("role"));
    assert_eq!(a.annotations[0].note, "the role called R-1");
    assert_paths_resolve(a);
    e.apply_ok(&plan).await;

    e.set_config("");
    let plan = e.plan().await;
    let a = change(&plan, "a");
    assert_eq!(a.action, Action::Delete);
    assert_eq!(a.annotations[0].note, "the role called R-1");
    assert_eq!(a.reason.as_deref(), Some("not in the configuration"));
}

/// A plan file of the previous release named input paths and mapped them: read through
/// `attribute_path`, its paths still resolve.
#[test]
fn paths_of_an_earlier_release_still_resolve_through_their_mapping() {
    let mut c = ResourceChange::new(
        "sb",
        "azure:x",
        plinth_plan::DeclKind::Resource,
        Action::Update,
    );
    c.before = Some(Value::from(
        json!({"properties": {"disableLocalAuth": false}}),
    ));
    c.after = Some(Value::from(
        json!({"properties": {"disableLocalAuth": true}}),
    ));
    c.changed_paths = vec![path("body.properties.disableLocalAuth")];
    c.attribute_paths = vec![(
        path("body.properties.disableLocalAuth"),
        path("properties.disableLocalAuth"),
    )];
    let at = c.attribute_path(&c.changed_paths[0]).clone();
    assert!(c.before.as_ref().unwrap().get(&at).is_some());
    // A plan of this release maps nothing: the path is its own.
    c.changed_paths = vec![path("properties.disableLocalAuth")];
    c.attribute_paths.clear();
    assert_eq!(
        c.attribute_path(&c.changed_paths[0]),
        &path("properties.disableLocalAuth")
    );
}
