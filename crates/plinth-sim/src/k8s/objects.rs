//! The write paths of the object store — create, replace, patch, apply, delete — with what
//! the API server does around them: checks of the body against the URL, server-set metadata
//! (uid, creationTimestamp, generation, resourceVersion), managedFields, dry runs, namespace
//! population and deletion, and tombstones for watches. Admission (defaults, validation,
//! status) is in `admission`.

use serde_json::{Map, Value, json};

use super::admission::{
    defaults, invalid, is_dns_label, is_dns_subdomain, meta_mut, server_fields, set_status,
    spec_of, unknown_field, validate,
};
use super::answer::ApiError;
use super::cluster::{Cluster, object_key};
use super::fields::{self, Ctx};
use super::patch::PatchKind;
use super::resources::Res;
use super::time::now;

/// What field tracking needs to know about a type.
fn ctx(r: &Res) -> Ctx {
    Ctx {
        custom: r.keda,
        has_status: r.has_status,
    }
}

impl Cluster {
    /// Stores `new` (replacing `old`) after server-side processing, unless it is a dry run.
    /// `new` already carries its managedFields.
    fn commit(
        &mut self,
        r: &Res,
        ns: Option<&str>,
        old: Option<&Value>,
        mut new: Value,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let name = new
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        new["apiVersion"] = json!(r.api_version());
        new["kind"] = json!(r.kind);
        {
            let meta = meta_mut(&mut new);
            match ns {
                Some(ns) => meta.insert("namespace".into(), json!(ns)),
                None => meta.remove("namespace"),
            };
            let (uid, created) = match old {
                Some(o) => (
                    o.pointer("/metadata/uid").cloned(),
                    o.pointer("/metadata/creationTimestamp").cloned(),
                ),
                None => (None, None),
            };
            meta.insert(
                "uid".into(),
                uid.unwrap_or_else(|| json!(uuid::Uuid::new_v4().to_string())),
            );
            meta.insert(
                "creationTimestamp".into(),
                created.unwrap_or_else(|| json!(now())),
            );
            meta.remove("selfLink");
            meta.remove("deletionTimestamp");
        }
        if r.has_status {
            match old.and_then(|o| o.get("status")) {
                Some(s) => new["status"] = s.clone(),
                None => {
                    if let Some(m) = new.as_object_mut() {
                        m.remove("status");
                    }
                }
            }
        }
        server_fields(r, &mut new, old.is_none());
        validate(r, &name, &new, old)?;
        if r.generation {
            let generation = match old {
                None => 1,
                Some(o) => {
                    let g = o
                        .pointer("/metadata/generation")
                        .and_then(Value::as_i64)
                        .unwrap_or(1);
                    if spec_of(o) != spec_of(&new) {
                        g + 1
                    } else {
                        g
                    }
                }
            };
            meta_mut(&mut new).insert("generation".into(), json!(generation));
        }
        set_status(r, &mut new, old);
        if let Some(o) = old
            && same_ignoring_times(o, &new)
        {
            return Ok(o.clone());
        }
        if dry_run {
            // Nothing is stored: a create has no resourceVersion yet, an update keeps its own.
            match old
                .and_then(|o| o.pointer("/metadata/resourceVersion"))
                .cloned()
            {
                Some(rv) => meta_mut(&mut new).insert("resourceVersion".into(), rv),
                None => meta_mut(&mut new).remove("resourceVersion"),
            };
            return Ok(new);
        }
        let rv = self.next_rv();
        meta_mut(&mut new).insert("resourceVersion".into(), json!(rv));
        if old.is_none()
            && let Some(uid) = new.pointer("/metadata/uid").and_then(Value::as_str)
        {
            self.created.insert(uid.to_string(), self.resource_version);
        }
        if !dry_run {
            self.objects
                .entry(r.qualified())
                .or_default()
                .insert(object_key(ns, &name), new.clone());
            if r.plural == "namespaces" && old.is_none() {
                self.populate_namespace(&name);
            }
        }
        Ok(new)
    }

    /// What a new namespace gets from the cluster's controllers.
    fn populate_namespace(&mut self, ns: &str) {
        let sa = super::resources::find("", "v1", "serviceaccounts", false).expect("sa");
        let cm = super::resources::find("", "v1", "configmaps", false).expect("cm");
        let _ = self.create(
            sa,
            Some(ns),
            json!({"metadata": {"name": "default"}}),
            "kube-controller-manager",
            false,
        );
        let _ = self.create(
            cm,
            Some(ns),
            json!({"metadata": {"name": "kube-root-ca.crt", "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}}, "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\nMIIBsimulated\n-----END CERTIFICATE-----\n"}}),
            "kube-root-ca-cert-publisher",
            false,
        );
    }

    fn check_body(
        &self,
        r: &Res,
        ns: Option<&str>,
        body: &mut Value,
        url_name: Option<&str>,
    ) -> Result<String, ApiError> {
        if !body.is_object() {
            return Err(ApiError::bad_request(
                "the body of the request must be a JSON or YAML object",
            ));
        }
        if let Some(av) = body.get("apiVersion").and_then(Value::as_str)
            && av != r.api_version()
        {
            return Err(ApiError::bad_request(&format!(
                "the API version in the data ({av}) does not match the expected API version ({})",
                r.api_version()
            )));
        }
        if let Some(k) = body.get("kind").and_then(Value::as_str)
            && k != r.kind
        {
            return Err(ApiError::bad_request(&format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                r.kind
            )));
        }
        let meta = meta_mut(body);
        if let (Some(body_ns), Some(ns)) = (meta.get("namespace").and_then(Value::as_str), ns)
            && !body_ns.is_empty()
            && body_ns != ns
        {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        let mut name = meta
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if name.is_empty()
            && url_name.is_none()
            && let Some(prefix) = meta.get("generateName").and_then(Value::as_str)
        {
            let suffix: String = uuid::Uuid::new_v4()
                .simple()
                .to_string()
                .chars()
                .take(5)
                .collect();
            name = format!("{prefix}{suffix}");
            meta.insert("name".into(), json!(name));
        }
        if let Some(u) = url_name {
            if name.is_empty() {
                name = u.to_string();
                meta.insert("name".into(), json!(name));
            } else if name != u {
                return Err(ApiError::bad_request(&format!(
                    "the name of the object ({name}) does not match the name on the URL ({u})"
                )));
            }
        }
        if name.is_empty() {
            return Err(invalid(
                r,
                "",
                "metadata.name",
                "FieldValueRequired",
                "Required value: name or generateName is required",
            ));
        }
        let valid = if r.plural == "namespaces" {
            is_dns_label(&name)
        } else {
            is_dns_subdomain(&name)
        };
        if !valid {
            return Err(invalid(
                r,
                &name,
                "metadata.name",
                "FieldValueInvalid",
                &format!(
                    "Invalid value: {name:?}: a lowercase RFC 1123 {} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
                    if r.plural == "namespaces" {
                        "label"
                    } else {
                        "subdomain"
                    }
                ),
            ));
        }
        if let Some(ns) = ns
            && !self.namespace_exists(ns)
        {
            return Err(ApiError::not_found_named("namespaces", "", ns));
        }
        Ok(name)
    }

    /// POST.
    pub(crate) fn create(
        &mut self,
        r: &Res,
        ns: Option<&str>,
        mut body: Value,
        manager: &str,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let name = self.check_body(r, ns, &mut body, None)?;
        if self.get(r, ns, &name).is_some() {
            return Err(ApiError::already_exists(r, &name));
        }
        clean_incoming(&mut body);
        defaults(r, &mut body);
        if let (true, Some(ns)) = (r.group.is_empty() && r.plural == "pods", ns) {
            super::webhook::mutate_pod(self, ns, &mut body)?;
        }
        let mut entries = Vec::new();
        let skeleton = json!({});
        fields::record_update(
            &mut entries,
            &skeleton,
            &body,
            manager,
            &r.api_version(),
            &now(),
            ctx(r),
        );
        meta_mut(&mut body).insert("managedFields".into(), fields::encode_entries(entries));
        self.commit(r, ns, None, body, dry_run)
    }

    /// PUT.
    pub(crate) fn replace(
        &mut self,
        r: &Res,
        ns: Option<&str>,
        name: &str,
        mut body: Value,
        manager: &str,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        self.check_body(r, ns, &mut body, Some(name))?;
        let Some(old) = self.get(r, ns, name).cloned() else {
            return Err(ApiError::not_found(r, name));
        };
        check_rv(r, name, &old, &body)?;
        clean_incoming(&mut body);
        defaults(r, &mut body);
        self.finish_update(r, ns, &old, body, manager, dry_run)
    }

    fn finish_update(
        &mut self,
        r: &Res,
        ns: Option<&str>,
        old: &Value,
        mut new: Value,
        manager: &str,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        if r.has_status
            && let Some(s) = old.get("status")
        {
            new["status"] = s.clone();
        }
        let mut entries = fields::parse_entries(old);
        fields::record_update(
            &mut entries,
            old,
            &new,
            manager,
            &r.api_version(),
            &now(),
            ctx(r),
        );
        meta_mut(&mut new).insert("managedFields".into(), fields::encode_entries(entries));
        self.commit(r, ns, Some(old), new, dry_run)
    }

    /// PATCH with a JSON merge patch, a strategic merge patch or a JSON patch.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn patch(
        &mut self,
        r: &Res,
        ns: Option<&str>,
        name: &str,
        patch: &Value,
        kind: PatchKind,
        manager: &str,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let Some(old) = self.get(r, ns, name).cloned() else {
            return Err(ApiError::not_found(r, name));
        };
        let mut new = old.clone();
        kind.apply(&mut new, patch)?;
        if kind != PatchKind::Json {
            check_rv(r, name, &old, patch)?;
        } else {
            check_rv(r, name, &old, &new)?;
        }
        self.check_body(r, ns, &mut new, Some(name))?;
        // A patch that sets managedFields itself (kubectl's migration to server-side apply)
        // replaces them; otherwise the server tracks the change.
        let explicit =
            new.pointer("/metadata/managedFields") != old.pointer("/metadata/managedFields");
        let provided = new.pointer("/metadata/managedFields").cloned();
        clean_incoming(&mut new);
        defaults(r, &mut new);
        if explicit {
            let entries = fields::parse_entries(&json!({"metadata": {"managedFields": provided}}));
            meta_mut(&mut new).insert("managedFields".into(), fields::encode_entries(entries));
            if r.has_status
                && let Some(s) = old.get("status")
            {
                new["status"] = s.clone();
            }
            return self.commit(r, ns, Some(&old), new, dry_run);
        }
        self.finish_update(r, ns, &old, new, manager, dry_run)
    }

    /// PATCH with `application/apply-patch+yaml`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn apply(
        &mut self,
        r: &Res,
        ns: Option<&str>,
        name: &str,
        mut cfg: Value,
        manager: &str,
        force: bool,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        if !cfg.is_object() {
            return Err(ApiError::bad_request(
                "the applied configuration must be an object",
            ));
        }
        if cfg
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
            || cfg
                .get("kind")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
        {
            return Err(ApiError::bad_request(
                "apiVersion and kind must be set in an applied configuration",
            ));
        }
        if cfg
            .pointer("/metadata/managedFields")
            .is_some_and(|m| m.as_array().is_none_or(|a| !a.is_empty()))
        {
            return Err(ApiError::bad_request("metadata.managedFields must be nil"));
        }
        self.check_body(r, ns, &mut cfg, Some(name))?;
        if let Some(field) = unknown_field(r, &cfg) {
            return Err(ApiError::bad_request(&format!(
                "failed to create typed patch object ({}/{name}; {}, Kind={}): {field}: field not declared in schema",
                ns.unwrap_or_default(),
                r.api_version(),
                r.kind
            )));
        }
        fields::strip_nulls(&mut cfg);
        if r.has_status
            && let Some(m) = cfg.as_object_mut()
        {
            m.remove("status");
        }
        let old = self.get(r, ns, name).cloned();
        let live = old.clone().unwrap_or_else(
            || json!({"apiVersion": r.api_version(), "kind": r.kind, "metadata": {"name": name}}),
        );
        let (mut merged, entries) = fields::apply(&live, &cfg, manager, force, &now(), ctx(r))
            .map_err(|conflicts| ApiError::apply_conflict(&conflicts))?;
        defaults(r, &mut merged);
        meta_mut(&mut merged).insert("managedFields".into(), fields::encode_entries(entries));
        self.commit(r, ns, old.as_ref(), merged, dry_run)
    }

    /// DELETE: what the API answers (the object for custom resources and namespaces, a
    /// Status otherwise).
    pub(crate) fn delete(
        &mut self,
        r: &Res,
        ns: Option<&str>,
        name: &str,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        let Some(obj) = self.get(r, ns, name).cloned() else {
            return Err(ApiError::not_found(r, name));
        };
        if !dry_run {
            let rv = self.resource_version + 1;
            let mut gone = Vec::new();
            if let Some(m) = self.objects.get_mut(&r.qualified())
                && let Some(o) = m.remove(&object_key(ns, name))
            {
                gone.push((r.qualified(), o));
            }
            if r.plural == "namespaces" {
                let prefix = format!("{name}/");
                for (t, m) in self.objects.iter_mut() {
                    let keys: Vec<String> = m
                        .keys()
                        .filter(|k| k.starts_with(&prefix))
                        .cloned()
                        .collect();
                    for k in keys {
                        if let Some(o) = m.remove(&k) {
                            gone.push((t.clone(), o));
                        }
                    }
                }
            }
            for (_, o) in &gone {
                if let Some(uid) = o.pointer("/metadata/uid").and_then(Value::as_str) {
                    self.created.remove(uid);
                }
            }
            for (t, mut o) in gone {
                meta_mut(&mut o).insert("resourceVersion".into(), json!(rv.to_string()));
                self.tombstones.push((rv, t, o));
            }
            let excess = self.tombstones.len().saturating_sub(1000);
            self.tombstones.drain(..excess);
            self.next_rv();
        }
        if r.plural == "namespaces" {
            let mut o = obj;
            o["status"] = json!({"phase": "Terminating"});
            meta_mut(&mut o).insert("deletionTimestamp".into(), json!(now()));
            return Ok(o);
        }
        if r.keda {
            return Ok(obj);
        }
        let mut details = Map::new();
        details.insert("name".into(), json!(name));
        if !r.group.is_empty() {
            details.insert("group".into(), json!(r.group));
        }
        details.insert("kind".into(), json!(r.plural));
        details.insert(
            "uid".into(),
            obj.pointer("/metadata/uid").cloned().unwrap_or(Value::Null),
        );
        Ok(
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}),
        )
    }
}

/// Drops what clients may not set.
fn clean_incoming(v: &mut Value) {
    let meta = meta_mut(v);
    meta.remove("managedFields");
    meta.remove("resourceVersion");
    meta.remove("generation");
}

fn check_rv(r: &Res, name: &str, old: &Value, body: &Value) -> Result<(), ApiError> {
    let Some(want) = body
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        return Ok(());
    };
    if old
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        != Some(want)
    {
        return Err(ApiError::conflict(
            r,
            name,
            &format!(
                "Operation cannot be fulfilled on {} {name:?}: the object has been modified; please apply your changes to the latest version and try again",
                r.qualified()
            ),
        ));
    }
    Ok(())
}

fn same_ignoring_times(a: &Value, b: &Value) -> bool {
    fn norm(v: &Value) -> Value {
        let mut c = v.clone();
        if let Some(m) = c.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("resourceVersion");
            if let Some(Value::Array(entries)) = m.get_mut("managedFields") {
                for e in entries {
                    if let Some(e) = e.as_object_mut() {
                        e.remove("time");
                    }
                }
            }
        }
        c
    }
    norm(a) == norm(b)
}
