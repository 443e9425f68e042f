//! What the API server does to an object on its way in, apart from storage: defaulting,
//! server-set fields (Job selectors), status the simulated workloads report at once, validation
//! (names, the built-in types' required fields, KEDA's schemas) and the check for fields a type
//! does not declare.

use base64::Engine;
use serde_json::{Map, Value, json};

use super::answer::ApiError;
use super::resources::Res;

pub(super) fn is_dns_subdomain(s: &str) -> bool {
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

pub(super) fn is_dns_label(s: &str) -> bool {
    s.len() <= 63 && !s.contains('.') && is_dns_subdomain(s)
}

/// A 422 Invalid for `field`.
pub(super) fn invalid(r: &Res, name: &str, field: &str, reason: &str, detail: &str) -> ApiError {
    ApiError::invalid(
        r,
        name,
        vec![(field.to_string(), reason.to_string(), detail.to_string())],
    )
}

/// The first top-level or metadata field the type does not declare (`.spc`), if any.
pub(super) fn unknown_field(r: &Res, v: &Value) -> Option<String> {
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

pub(super) fn meta_mut(v: &mut Value) -> &mut Map<String, Value> {
    if !v.get("metadata").is_some_and(Value::is_object) {
        v["metadata"] = json!({});
    }
    v["metadata"].as_object_mut().expect("metadata")
}

/// Everything but metadata and status (what bumps generation).
pub(super) fn spec_of(v: &Value) -> Value {
    let mut c = v.clone();
    if let Some(m) = c.as_object_mut() {
        m.remove("metadata");
        m.remove("status");
        m.remove("apiVersion");
        m.remove("kind");
    }
    c
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
pub(super) fn defaults(r: &Res, v: &mut Value) {
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
pub(super) fn server_fields(r: &Res, v: &mut Value, creating: bool) {
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
pub(super) fn set_status(r: &Res, v: &mut Value, old: Option<&Value>) {
    let generation = v
        .pointer("/metadata/generation")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let observed = old
        .and_then(|o| o.pointer("/status/observedGeneration"))
        .and_then(Value::as_i64);
    match (r.group, r.plural) {
        ("", "namespaces") => v["status"] = json!({"phase": "Active"}),
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
pub(super) fn validate(
    r: &Res,
    name: &str,
    v: &Value,
    old: Option<&Value>,
) -> Result<(), ApiError> {
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
