//! Object storage and the write paths (create, replace, patch, apply, delete) with what the API
//! server does around them: server-set metadata, defaults, validation, status, managedFields.

use base64::Engine;
use serde_json::{Map, Value, json};

use super::fields::{self, Ctx};
use super::resources::Res;
use super::{ApiError, Cluster, now};

/// The non-apply patch formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PatchKind {
    Merge,
    Strategic,
    Json,
}

impl PatchKind {
    pub(crate) fn apply(self, target: &mut Value, patch: &Value) -> Result<(), ApiError> {
        match self {
            PatchKind::Merge | PatchKind::Strategic if !patch.is_object() => {
                Err(ApiError::bad_request("the patch must be a JSON object"))
            }
            PatchKind::Merge => {
                fields::merge_patch(target, patch);
                Ok(())
            }
            PatchKind::Strategic => {
                fields::strategic_merge(target, patch, "");
                Ok(())
            }
            PatchKind::Json => fields::json_patch(target, patch).map_err(|e| {
                ApiError::new(
                    422,
                    "Invalid",
                    &format!("the server rejected our request due to an error in our request: {e}"),
                )
            }),
        }
    }
}

pub(crate) fn ctx(r: &Res) -> Ctx {
    Ctx {
        custom: r.keda,
        has_status: r.has_status,
    }
}

pub(crate) fn object_key(ns: Option<&str>, name: &str) -> String {
    match ns {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

fn is_dns_label(s: &str) -> bool {
    s.len() <= 63 && !s.contains('.') && is_dns_subdomain(s)
}

/// A 422 Invalid for `field`.
pub(crate) fn invalid(r: &Res, name: &str, field: &str, reason: &str, detail: &str) -> ApiError {
    ApiError::invalid(
        r,
        name,
        vec![(field.to_string(), reason.to_string(), detail.to_string())],
    )
}

impl Cluster {
    pub(crate) fn next_rv(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }

    pub(crate) fn get(&self, r: &Res, ns: Option<&str>, name: &str) -> Option<&Value> {
        self.objects.get(&r.qualified())?.get(&object_key(ns, name))
    }

    /// Watch events of type `r` (in `ns`, or everywhere) after resourceVersion `since`, in
    /// order: everything as ADDED when `since` is 0.
    pub(crate) fn watch_events(
        &self,
        r: &Res,
        ns: Option<&str>,
        since: u64,
    ) -> Vec<(&'static str, Value)> {
        let rv_of = |o: &Value| {
            o.pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let mut events: Vec<(u64, &'static str, Value)> = self
            .list(r, ns)
            .into_iter()
            .filter(|o| rv_of(o) > since)
            .map(|o| {
                let uid = o
                    .pointer("/metadata/uid")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let added = since == 0 || self.created.get(uid).is_some_and(|c| *c > since);
                (
                    rv_of(o),
                    if added { "ADDED" } else { "MODIFIED" },
                    o.clone(),
                )
            })
            .collect();
        if since > 0 {
            let q = r.qualified();
            for (rv, t, o) in &self.tombstones {
                let in_ns = ns.is_none_or(|ns| {
                    o.pointer("/metadata/namespace").and_then(Value::as_str) == Some(ns)
                });
                if *rv > since && *t == q && in_ns {
                    events.push((*rv, "DELETED", o.clone()));
                }
            }
        }
        events.sort_by_key(|(rv, _, _)| *rv);
        events.into_iter().map(|(_, k, o)| (k, o)).collect()
    }

    pub(crate) fn namespace_exists(&self, ns: &str) -> bool {
        self.objects
            .get("namespaces")
            .is_some_and(|m| m.contains_key(ns))
    }

    /// Objects of type `r` (in `ns`, or everywhere).
    pub(crate) fn list(&self, r: &Res, ns: Option<&str>) -> Vec<&Value> {
        let Some(m) = self.objects.get(&r.qualified()) else {
            return Vec::new();
        };
        m.iter()
            .filter(|(k, _)| ns.is_none_or(|ns| k.split_once('/').is_some_and(|(n, _)| n == ns)))
            .map(|(_, v)| v)
            .collect()
    }

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

/// The first top-level or metadata field the type does not declare (`.spc`), if any.
pub(crate) fn unknown_field(r: &Res, v: &Value) -> Option<String> {
    const META: &[&str] = &[
        "name",
        "generateName",
        "namespace",
        "selfLink",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "managedFields",
    ];
    let own: &[&str] = match r.plural {
        "serviceaccounts" => &[
            "secrets",
            "imagePullSecrets",
            "automountServiceAccountToken",
        ],
        "configmaps" => &["data", "binaryData", "immutable"],
        "secrets" => &["data", "stringData", "type", "immutable"],
        _ => &["spec", "status"],
    };
    let obj = v.as_object()?;
    if let Some(k) = obj.keys().find(|k| {
        !["apiVersion", "kind", "metadata"].contains(&k.as_str()) && !own.contains(&k.as_str())
    }) {
        return Some(format!(".{k}"));
    }
    let meta = obj.get("metadata").and_then(Value::as_object)?;
    meta.keys()
        .find(|k| !META.contains(&k.as_str()))
        .map(|k| format!(".metadata.{k}"))
}

fn meta_mut(v: &mut Value) -> &mut Map<String, Value> {
    if !v.get("metadata").is_some_and(Value::is_object) {
        v["metadata"] = json!({});
    }
    v["metadata"].as_object_mut().expect("metadata")
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

/// Everything but metadata and status (what bumps generation).
fn spec_of(v: &Value) -> Value {
    let mut c = v.clone();
    if let Some(m) = c.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
        m.remove("apiVersion");
        m.remove("kind");
    }
    c
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

fn set_default(m: &mut Map<String, Value>, k: &str, v: Value) {
    if !m.contains_key(k) {
        m.insert(k.into(), v);
    }
}

fn pod_defaults(template: &mut Value, restart: Option<&str>) {
    let Some(spec) = template.pointer_mut("/spec").and_then(Value::as_object_mut) else {
        return;
    };
    if let Some(r) = restart {
        set_default(spec, "restartPolicy", json!(r));
    }
    set_default(spec, "dnsPolicy", json!("ClusterFirst"));
    set_default(spec, "schedulerName", json!("default-scheduler"));
    set_default(spec, "securityContext", json!({}));
    set_default(spec, "terminationGracePeriodSeconds", json!(30));
    if let Some(Value::Array(cs)) = spec.get_mut("containers") {
        for c in cs.iter_mut().filter_map(Value::as_object_mut) {
            let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
            let tagged = image
                .rsplit('/')
                .next()
                .is_some_and(|last| last.contains(':') || last.contains('@'));
            let policy = if !tagged || image.ends_with(":latest") {
                "Always"
            } else {
                "IfNotPresent"
            };
            set_default(c, "imagePullPolicy", json!(policy));
            set_default(c, "resources", json!({}));
            set_default(c, "terminationMessagePath", json!("/dev/termination-log"));
            set_default(c, "terminationMessagePolicy", json!("File"));
        }
    }
}

/// Defaulting (what the API server fills in that clients left out).
pub(crate) fn defaults(r: &Res, v: &mut Value) {
    match (r.group, r.plural) {
        ("apps", "deployments") => {
            if let Some(spec) = v.get_mut("spec").and_then(Value::as_object_mut) {
                set_default(spec, "replicas", json!(1));
                set_default(spec, "revisionHistoryLimit", json!(10));
                set_default(spec, "progressDeadlineSeconds", json!(600));
                set_default(
                    spec,
                    "strategy",
                    json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}),
                );
            }
            if let Some(t) = v.pointer_mut("/spec/template") {
                pod_defaults(t, Some("Always"));
            }
        }
        ("batch", "jobs") => {
            if let Some(spec) = v.get_mut("spec").and_then(Value::as_object_mut) {
                set_default(spec, "backoffLimit", json!(6));
                set_default(spec, "completions", json!(1));
                set_default(spec, "parallelism", json!(1));
                set_default(spec, "completionMode", json!("NonIndexed"));
                set_default(spec, "suspend", json!(false));
            }
            if let Some(t) = v.pointer_mut("/spec/template") {
                pod_defaults(t, None);
            }
        }
        ("", "secrets") => {
            if let Some(m) = v.as_object_mut() {
                set_default(m, "type", json!("Opaque"));
                if let Some(Value::Object(sd)) = m.remove("stringData") {
                    let data = m.entry("data").or_insert_with(|| json!({}));
                    if let Some(data) = data.as_object_mut() {
                        for (k, s) in sd {
                            let s = s
                                .as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| s.to_string());
                            data.insert(
                                k,
                                json!(base64::engine::general_purpose::STANDARD.encode(s)),
                            );
                        }
                    }
                }
            }
        }
        ("", "namespaces") => {
            let name = v
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let meta = meta_mut(v);
            let labels = meta.entry("labels").or_insert_with(|| json!({}));
            if let Some(l) = labels.as_object_mut() {
                l.insert("kubernetes.io/metadata.name".into(), json!(name));
            }
            if let Some(m) = v.as_object_mut() {
                set_default(m, "spec", json!({"finalizers": ["kubernetes"]}));
            }
        }
        _ => {}
    }
}

/// Fields the server sets on create (job selectors and their pod labels).
fn server_fields(r: &Res, v: &mut Value, creating: bool) {
    if creating && r.plural == "jobs" && v.pointer("/spec/selector").is_none() {
        let uid = v
            .pointer("/metadata/uid")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let name = v
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if let Some(spec) = v.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert(
                "selector".into(),
                json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}),
            );
            spec.insert("manualSelector".into(), json!(false));
        }
        if let Some(t) = v.pointer_mut("/spec/template") {
            let meta = meta_mut(t);
            let labels = meta.entry("labels").or_insert_with(|| json!({}));
            if let Some(l) = labels.as_object_mut() {
                for (k, val) in [
                    ("batch.kubernetes.io/controller-uid", uid.as_str()),
                    ("batch.kubernetes.io/job-name", name.as_str()),
                    ("controller-uid", uid.as_str()),
                    ("job-name", name.as_str()),
                ] {
                    l.insert(k.into(), json!(val));
                }
            }
        }
    }
}

/// What the cluster's controllers report: every workload is healthy at once.
fn set_status(r: &Res, v: &mut Value, old: Option<&Value>) {
    let generation = v
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let observed = old
        .and_then(|o| o.pointer("/status/observedGeneration"))
        .and_then(Value::as_i64);
    let t = now();
    match (r.group, r.plural) {
        ("", "namespaces") => v["status"] = json!({"phase": "Active"}),
        ("apps", "deployments") => {
            let replicas = v
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            let unchanged = observed == Some(generation)
                && old
                    .and_then(|o| o.pointer("/status/replicas"))
                    .and_then(Value::as_i64)
                    == Some(replicas);
            if unchanged {
                return;
            }
            let mut status = json!({
                "observedGeneration": generation,
                "conditions": [
                    {"type": "Available", "status": "True", "lastUpdateTime": t, "lastTransitionTime": t,
                     "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."},
                    {"type": "Progressing", "status": "True", "lastUpdateTime": t, "lastTransitionTime": t,
                     "reason": "NewReplicaSetAvailable",
                     "message": format!("ReplicaSet \"{}\" has successfully progressed.",
                        v.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default())},
                ],
            });
            if replicas > 0 {
                for k in [
                    "replicas",
                    "updatedReplicas",
                    "readyReplicas",
                    "availableReplicas",
                ] {
                    status[k] = json!(replicas);
                }
            }
            v["status"] = status;
        }
        ("keda.sh", "scaledjobs" | "scaledobjects") => {
            if observed == Some(generation)
                || old.is_some_and(|o| o.get("status").is_some() && spec_of(o) == spec_of(v))
            {
                return;
            }
            let (ready_reason, ready_msg) = if r.plural == "scaledjobs" {
                (
                    "ScaledJobReady",
                    "ScaledJob is defined correctly and is ready to scaling",
                )
            } else {
                (
                    "ScaledObjectReady",
                    "ScaledObject is defined correctly and is ready for scaling",
                )
            };
            let mut status = json!({
                "conditions": [
                    {"type": "Ready", "status": "True", "reason": ready_reason, "message": ready_msg},
                    {"type": "Active", "status": "False", "reason": "ScalerNotActive", "message": "Scaling is not performed because triggers are not active"},
                    {"type": "Fallback", "status": "False", "reason": "NoFallbackFound", "message": "No fallbacks are active on this scaled object"},
                    {"type": "Paused", "status": "False", "reason": "ScaledObjectUnpaused", "message": "pause annotation removed for ScaledObject"},
                ],
            });
            if r.plural == "scaledobjects" {
                status["scaleTargetKind"] = json!("apps/v1.Deployment");
                status["originalReplicaCount"] = json!(1);
            }
            v["status"] = status;
        }
        _ => {}
    }
}

/// Validation, as the API server (or a CRD's schema) does it.
fn validate(r: &Res, name: &str, v: &Value, old: Option<&Value>) -> Result<(), ApiError> {
    let mut causes: Vec<(String, String, String)> = Vec::new();
    let mut required = |field: &str, present: bool| {
        if !present {
            causes.push((
                field.into(),
                "FieldValueRequired".into(),
                "Required value".into(),
            ));
        }
    };
    let containers_ok = |t: &str| {
        v.pointer(t)
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    };
    match (r.group, r.plural) {
        ("apps", "deployments") => {
            required("spec.selector", v.pointer("/spec/selector").is_some());
            required(
                "spec.template.spec.containers",
                containers_ok("/spec/template/spec/containers"),
            );
            if let Some(Value::Object(ml)) = v.pointer("/spec/selector/matchLabels") {
                let labels = v
                    .pointer("/spec/template/metadata/labels")
                    .and_then(Value::as_object);
                if !ml
                    .iter()
                    .all(|(k, val)| labels.is_some_and(|l| l.get(k) == Some(val)))
                {
                    causes.push((
                        "spec.template.metadata.labels".into(),
                        "FieldValueInvalid".into(),
                        format!(
                            "Invalid value: {}: `selector` does not match template `labels`",
                            serde_json::to_string(&labels).unwrap_or_default()
                        ),
                    ));
                }
            }
            if let Some(o) = old
                && o.pointer("/spec/selector") != v.pointer("/spec/selector")
            {
                causes.push((
                    "spec.selector".into(),
                    "FieldValueInvalid".into(),
                    format!(
                        "Invalid value: {}: field is immutable",
                        v.pointer("/spec/selector")
                            .map(Value::to_string)
                            .unwrap_or_default()
                    ),
                ));
            }
        }
        ("batch", "jobs") => {
            required(
                "spec.template.spec.containers",
                containers_ok("/spec/template/spec/containers"),
            );
            match v
                .pointer("/spec/template/spec/restartPolicy")
                .and_then(Value::as_str)
            {
                Some("Never" | "OnFailure") => {}
                other => causes.push((
                    "spec.template.spec.restartPolicy".into(),
                    if other.is_some() {
                        "FieldValueNotSupported"
                    } else {
                        "FieldValueRequired"
                    }
                    .into(),
                    match other {
                        Some(p) => format!(
                            "Unsupported value: {p:?}: supported values: \"OnFailure\", \"Never\""
                        ),
                        None => "Required value: valid values: \"OnFailure\", \"Never\"".into(),
                    },
                )),
            }
            if let Some(o) = old
                && o.pointer("/spec/template") != v.pointer("/spec/template")
            {
                causes.push((
                    "spec.template".into(),
                    "FieldValueInvalid".into(),
                    "Invalid value: the template of a Job: field is immutable".into(),
                ));
            }
        }
        ("", "secrets") => {
            if let Some(Value::Object(data)) = v.get("data") {
                for (k, val) in data {
                    let ok = val.as_str().is_some_and(|s| {
                        base64::engine::general_purpose::STANDARD.decode(s).is_ok()
                    });
                    if !ok {
                        causes.push((
                            format!("data[{k}]"),
                            "FieldValueInvalid".into(),
                            "Invalid value: illegal base64 data".into(),
                        ));
                    }
                }
            }
        }
        ("keda.sh", "scaledjobs") => {
            required(
                "spec.jobTargetRef",
                v.pointer("/spec/jobTargetRef").is_some(),
            );
            required(
                "spec.triggers",
                v.pointer("/spec/triggers").is_some_and(Value::is_array),
            );
        }
        ("keda.sh", "scaledobjects") => {
            required(
                "spec.scaleTargetRef",
                v.pointer("/spec/scaleTargetRef").is_some(),
            );
            required(
                "spec.triggers",
                v.pointer("/spec/triggers").is_some_and(Value::is_array),
            );
        }
        _ => {}
    }
    if let Some(o) = old
        && matches!(r.plural, "configmaps" | "secrets")
        && o.get("immutable") == Some(&json!(true))
    {
        for field in ["data", "binaryData"] {
            if o.get(field) != v.get(field) {
                causes.push((
                    field.into(),
                    "FieldValueForbidden".into(),
                    "Forbidden: field is immutable when `immutable` is set".into(),
                ));
            }
        }
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(r, name, causes))
    }
}
