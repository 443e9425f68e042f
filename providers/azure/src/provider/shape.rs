//! The shape of an Azure resource: its configuration (`name`, `parent`, `location`, `tags`,
//! `body`) mapped onto ARM's body and attributes and back (`body.properties.x` ↔
//! `properties.x`), its schema (curated for the flagship's types), its resource id (a role
//! assignment's name by `guid()`), and the inputs that match an object ARM returns (for
//! import). Pure: no ARM call is made here.

use plinth_provider::diff;
use plinth_provider::{InputSchema, Observed, ProviderError, TypeSchema, ValueKind};
use plinth_value::{Map, Path, PathSeg, Value};

use crate::types::{self, ArmType};

/// A path written in the source (static, so it parses).
pub(crate) fn p(s: &str) -> Path {
    s.parse().expect("static path")
}

/// The ARM type of a type name (`Namespace/type[/child]@api-version`).
pub(crate) fn parse_type(type_name: &str) -> Result<ArmType, ProviderError> {
    ArmType::parse(type_name).ok_or_else(|| {
        ProviderError::new(format!(
            "`{type_name}` is not an ARM type: write Namespace/type[/child]@api-version"
        ))
    })
}

pub(crate) fn str_at(v: &Value, path: &str) -> Option<String> {
    v.get(&p(path))
        .and_then(|x| x.unmarked().as_str().map(str::to_string))
}

/// What a string value at `path` is: known (`Some(Some)`), absent (`None`) or unknown.
pub(crate) enum Field {
    Absent,
    Unknown,
    Known(String),
}

pub(crate) fn field(v: &Value, path: &str) -> Field {
    match v.get(&p(path)).map(|x| x.unmark_all()) {
        None | Some(Value::Null) => Field::Absent,
        Some(Value::Unknown) => Field::Unknown,
        Some(Value::String(s)) => Field::Known(s),
        Some(other) => Field::Known(other.to_json().to_string()),
    }
}

/// Attribute path of an input path: `body.x` → `x`; `location`, `tags...`, `name` stay.
pub(crate) fn to_attr(input: &Path) -> Option<Path> {
    match input.segments().first() {
        Some(PathSeg::Key(k)) if k == "body" => {
            Some(Path::from_segments(input.segments()[1..].to_vec()))
        }
        Some(PathSeg::Key(k)) if k == "location" || k == "tags" || k == "name" => {
            Some(input.clone())
        }
        _ => None,
    }
}

/// Input path of an attribute path (the inverse of [`to_attr`]).
pub(crate) fn to_input(attr: &Path) -> Path {
    match attr.segments().first() {
        Some(PathSeg::Key(k)) if k == "location" || k == "tags" || k == "name" => attr.clone(),
        _ => {
            let mut segs = vec![PathSeg::Key("body".into())];
            segs.extend(attr.segments().iter().cloned());
            Path::from_segments(segs)
        }
    }
}

/// `name` and `parent` make the resource id, which every plan, state listing and output
/// prints: a sensitive value there would be printed too, so it is refused (as `for_each`
/// refuses sensitive keys).
pub(crate) fn refuse_sensitive(config: &Value) -> Result<(), ProviderError> {
    for key in ["name", "parent"] {
        if config.get(&p(key)).is_some_and(|v| v.contains_sensitive()) {
            return Err(ProviderError::new(format!(
                "`{key}` uses a sensitive value: it is part of the resource id, which plans, state and outputs show, so it cannot be secret; build `{key}` from values that are not sensitive"
            )));
        }
    }
    Ok(())
}

/// Keys of `body` that have their own inputs.
pub(crate) const RESERVED_BODY_KEYS: &[&str] = &["id", "name", "type", "location", "tags"];

/// The schema of an ARM type: the generic inputs, with the curated create-only, computed and
/// sensitive paths of a known type.
pub(crate) fn curated_schema(t: &ArmType, type_name: &str) -> TypeSchema {
    let known = t.known();
    let mut force_new = vec![p("name"), p("parent")];
    let mut computed = vec![p("id"), p("type"), p("properties.provisioningState")];
    let mut sensitive = Vec::new();
    let mut description = format!(
        "ARM resource type {} (api-version {}).",
        t.full(),
        t.api_version
    );
    if t.known().is_none() {
        force_new.push(p("location"));
    }
    if let Some(k) = known {
        description = format!("{} {description}", k.description);
        force_new.extend(k.force_new.iter().map(|s| p(s)));
        computed = k.computed.iter().map(|s| p(s)).collect();
        sensitive.extend(k.sensitive.iter().map(|s| p(s)));
    }
    TypeSchema {
        type_name: format!("azure:{type_name}"),
        description,
        inputs: vec![
            InputSchema::new(
                "name",
                ValueKind::String,
                false,
                "The resource's name (required, except for role assignments, whose name defaults to guid(scope, roleDefinitionId, principalId), and data sources read by `id`).",
            ),
            InputSchema::new(
                "parent",
                ValueKind::String,
                false,
                "A resource id: the resource group for RG-scoped types, the parent resource for child types, any scope for extension types; for resource groups the subscription (default: the provider's).",
            ),
            InputSchema::new(
                "location",
                ValueKind::String,
                false,
                "The Azure region, e.g. \"eastus\".",
            ),
            InputSchema::new("tags", ValueKind::Map, false, "Resource tags."),
            InputSchema::new(
                "body",
                ValueKind::Map,
                false,
                "The rest of the ARM request body, exactly as ARM spells it (properties, sku, identity, kind, ...).",
            ),
            InputSchema::new(
                "id",
                ValueKind::String,
                false,
                "Data sources only: the resource id to read.",
            ),
        ],
        open: false,
        computed,
        force_new,
        sensitive,
        data_source: true,
        managed: true,
        action: false,
    }
}

/// The effective name: the configured one, or for role assignments guid(scope,
/// roleDefinitionId, principalId). `Unknown` while any of those is unknown.
pub(crate) fn name_of(t: &ArmType, config: &Value) -> Result<Value, ProviderError> {
    refuse_sensitive(config)?;
    match field(config, "name") {
        Field::Known(n) => {
            types::check_name(t, &n).map_err(ProviderError::new)?;
            return Ok(Value::String(n));
        }
        Field::Unknown => return Ok(Value::Unknown),
        Field::Absent => {}
    }
    if !t.is(types::ROLE_ASSIGNMENT) {
        return Err(ProviderError::new("`name` is required"));
    }
    let parts = [
        field(config, "parent"),
        field(config, "body.properties.roleDefinitionId"),
        field(config, "body.properties.principalId"),
    ];
    let mut known = Vec::new();
    for f in parts {
        match f {
            Field::Known(s) => known.push(s),
            Field::Unknown => return Ok(Value::Unknown),
            Field::Absent => {
                return Err(ProviderError::new(
                    "a role assignment needs `parent` (its scope), body.properties.roleDefinitionId and body.properties.principalId",
                ));
            }
        }
    }
    let refs: Vec<&str> = known.iter().map(String::as_str).collect();
    Ok(Value::String(plinth_expr::guid(&refs)))
}

/// The resource id `config` names; `Ok(None)` while part of it is unknown.
pub(crate) fn id_of(
    t: &ArmType,
    config: &Value,
    subscription: Option<&str>,
) -> Result<Option<String>, ProviderError> {
    let name = match name_of(t, config)? {
        Value::String(n) => n,
        _ => return Ok(None),
    };
    let parent = match field(config, "parent") {
        Field::Known(p) => {
            types::check_parent(&p).map_err(ProviderError::new)?;
            Some(p)
        }
        Field::Unknown => return Ok(None),
        Field::Absent => None,
    };
    t.resource_id(parent.as_deref(), &name, subscription)
        .map(Some)
        .map_err(ProviderError::new)
}

/// The configuration in attribute shape: the body's keys, `name`, `location`, `tags`
/// (and for role assignments `properties.principalType`, default ServicePrincipal).
pub(crate) fn desired(t: &ArmType, config: &Value) -> Result<Value, ProviderError> {
    let mut m = Map::new();
    match config.get(&p("body")) {
        None | Some(Value::Null) => {}
        Some(body) => match body.unmarked() {
            Value::Map(b) => {
                for (k, v) in b {
                    if RESERVED_BODY_KEYS.contains(&k.as_str()) {
                        return Err(ProviderError::new(format!(
                            "body.{k}: use the top-level `{k}` input"
                        )));
                    }
                    m.insert(k.clone(), v.clone());
                }
            }
            Value::Unknown => {
                return Err(ProviderError::new(
                    "`body` as a whole is unknown; refer to values inside it instead",
                ));
            }
            other => {
                return Err(ProviderError::new(format!(
                    "`body` must be a table, found {}",
                    other.type_name()
                )));
            }
        },
    }
    m.insert("name".into(), name_of(t, config)?);
    for k in ["location", "tags"] {
        if let Some(v) = config.get(&p(k))
            && !matches!(v, Value::Null)
        {
            m.insert(k.into(), v);
        }
    }
    let mut v = Value::Map(m);
    if t.is(types::ROLE_ASSIGNMENT) && v.get(&p("properties.principalType")).is_none() {
        v.set(
            &p("properties.principalType"),
            Value::from("ServicePrincipal"),
        );
    }
    Ok(v)
}

/// The JSON body of a PUT.
pub(crate) fn put_body(desired: &Value) -> serde_json::Value {
    let mut body = desired.unmark_all().to_json();
    if let Some(o) = body.as_object_mut() {
        o.remove("name");
    }
    body
}

pub(crate) fn schema_of(type_name: &str) -> Result<(ArmType, TypeSchema), ProviderError> {
    let t = parse_type(type_name)?;
    let s = curated_schema(&t, type_name);
    Ok((t, s))
}

/// Attributes of an object about to be created: the desired shape, the id when it can be
/// known, computed paths unknown.
pub(crate) fn new_object(
    t: &ArmType,
    schema: &TypeSchema,
    config: &Value,
    desired: &Value,
    subscription: Option<&str>,
    service_bus_suffix: Option<&str>,
) -> Result<Value, ProviderError> {
    let mut attrs = desired.clone();
    for (path, value) in known_before_create(t, config, desired, service_bus_suffix) {
        if attrs.get(&path).is_none() {
            attrs.set(&path, value);
        }
    }
    let absent = absent_after_create(t, desired);
    for c in &schema.computed {
        if attrs.get(c).is_none() && !absent.contains(c) {
            attrs.set(c, Value::Unknown);
        }
    }
    if let Some(id) = id_of(t, config, subscription)? {
        attrs.set(&p("id"), Value::String(id));
    }
    diff::mark_sensitive(schema, &mut attrs);
    Ok(attrs)
}

/// Attributes ARM computes that are known before the object exists, besides its id: `type`
/// of a curated type (in ARM's casing, as a read will show it; unknown for other types,
/// whose casing only ARM's answer tells),
/// a role assignment's `properties.scope` (its `parent`), an AKS cluster's node resource
/// group when the configuration leaves it to AKS (`MC_{group}_{cluster}_{location}`, AKS's
/// documented default, for names within its 80 characters), a Service Bus namespace's
/// endpoint (`https://{name}.{suffix}:443/`, in a cloud whose suffix is known) and metric id.
/// Only values that cannot turn out otherwise: what a plan
/// shows as known must be what apply gets.
pub(crate) fn known_before_create(
    t: &ArmType,
    config: &Value,
    desired: &Value,
    service_bus_suffix: Option<&str>,
) -> Vec<(Path, Value)> {
    let mut out: Vec<(Path, Value)> = t
        .arm_type()
        .map(|a| (p("type"), Value::from(a)))
        .into_iter()
        .collect();
    let parent = match field(config, "parent") {
        Field::Known(parent) if types::check_parent(&parent).is_ok() => {
            Some(parent.trim().trim_end_matches('/').to_string())
        }
        _ => None,
    };
    if t.is(types::ROLE_ASSIGNMENT)
        && let Some(scope) = &parent
    {
        out.push((p("properties.scope"), Value::String(scope.clone())));
    }
    if t.is(types::AKS)
        && desired.get(&p("properties.nodeResourceGroup")).is_none()
        && let Some(parent) = &parent
        && let Some(group) = resource_group_of(parent)
        && let Some(Value::String(name)) = desired.get(&p("name"))
        && let Some(Value::String(location)) = desired.get(&p("location"))
    {
        let location: String = location
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        let node_group = format!("MC_{group}_{name}_{location}");
        if node_group.chars().count() <= 80 {
            out.push((p("properties.nodeResourceGroup"), Value::String(node_group)));
        }
    }
    // The shapes ARM answers (azure-rest-api-specs, servicebus 2024-01-01
    // examples/NameSpaces/SBNameSpaceCreate.json, and the recorded azure-mgmt-servicebus
    // test): `metricId` is `{subscription}:{name in lower case}`, the endpoint keeps the
    // name as written.
    if t.is(types::SB_NAMESPACE)
        && let Some(Value::String(name)) = desired.get(&p("name"))
    {
        if let Some(suffix) = service_bus_suffix {
            out.push((
                p("properties.serviceBusEndpoint"),
                Value::String(format!("https://{name}.{suffix}:443/")),
            ));
        }
        if let Some(sub) = parent.as_deref().and_then(subscription_of) {
            out.push((
                p("properties.metricId"),
                Value::String(format!("{sub}:{}", name.to_lowercase())),
            ));
        }
    }
    out
}

/// The subscription id of an id under `/subscriptions/SUB/...`.
fn subscription_of(id: &str) -> Option<&str> {
    let mut segs = id.split('/');
    match (segs.next(), segs.next(), segs.next()) {
        (Some(""), Some(subs), Some(sub))
            if subs.eq_ignore_ascii_case("subscriptions") && !sub.is_empty() =>
        {
            Some(sub)
        }
        _ => None,
    }
}

/// Computed attributes the object will not have, as its configuration shows: an AKS
/// cluster's `properties.privateFQDN` exists only for a private cluster
/// (`apiServerAccessProfile.enablePrivateCluster = true`); a public cluster has `fqdn` alone.
pub(crate) fn absent_after_create(t: &ArmType, desired: &Value) -> Vec<Path> {
    let private = desired.get(&p("properties.apiServerAccessProfile.enablePrivateCluster"));
    if t.is(types::AKS) && matches!(private, None | Some(Value::Bool(false))) {
        vec![p("properties.privateFQDN")]
    } else {
        vec![]
    }
}

/// The resource group name of a resource group id (`/subscriptions/S/resourceGroups/G`).
fn resource_group_of(id: &str) -> Option<&str> {
    let segs: Vec<&str> = id.split('/').collect();
    match segs.as_slice() {
        ["", subs, _, rgs, group]
            if subs.eq_ignore_ascii_case("subscriptions")
                && rgs.eq_ignore_ascii_case("resourceGroups") =>
        {
            Some(group)
        }
        _ => None,
    }
}

/// Inputs a configuration needs to match an object as ARM returns it (for import).
pub(crate) fn inputs_of(t: &ArmType, id: &str, got: &serde_json::Value) -> Value {
    let schema = curated_schema(t, "");
    let mut attrs = Value::from(got);
    for c in &schema.computed {
        attrs.remove(c);
    }
    let mut inputs = Map::new();
    let mut body = Map::new();
    if let Value::Map(m) = attrs {
        for (k, v) in m {
            match k.as_str() {
                "name" | "location" | "tags" => {
                    inputs.insert(k, v);
                }
                "id" | "type" | "systemData" | "etag" | "managedBy" => {}
                _ => {
                    body.insert(k, v);
                }
            }
        }
    }
    if let Some(Value::Map(props)) = body.get_mut("properties") {
        props.retain(|_, v| !matches!(v, Value::Null));
        if props.is_empty() {
            body.remove("properties");
        }
    }
    if let Some(Value::Map(identity)) = body.get_mut("identity") {
        identity.remove("principalId");
        identity.remove("tenantId");
    }
    // Read-only fields ARM reports anywhere in a body (agent pools, load balancer profiles):
    // a configuration never sets them.
    for v in body.values_mut() {
        strip_read_only(v);
    }
    inputs.insert("parent".into(), Value::String(types::parent_of(id, t)));
    if !body.is_empty() {
        inputs.insert("body".into(), Value::Map(body));
    }
    Value::Map(inputs)
}

/// The object ARM returned as plinth observes it (its id as ARM spells it).
pub(crate) fn observed(id: &str, got: serde_json::Value) -> Observed {
    let id = got
        .get("id")
        .and_then(|v| v.as_str())
        .unwrap_or(id)
        .to_string();
    Observed {
        id: Some(id),
        attributes: Value::from(got),
    }
}

/// The resource type an ARM id names (`Microsoft.ServiceBus/namespaces/queues`), read from
/// its last `/providers/NAMESPACE/type/name[/child/name...]` part, or a resource group's
/// `/subscriptions/S/resourceGroups/R`; `None` when the id is not shaped so.
pub(crate) fn type_of_id(id: &str) -> Option<String> {
    let segs: Vec<&str> = id.trim_end_matches('/').split('/').collect();
    if segs.first() != Some(&"") || !segs.get(1)?.eq_ignore_ascii_case("subscriptions") {
        return None;
    }
    let at = segs
        .iter()
        .rposition(|s| s.eq_ignore_ascii_case("providers"));
    match at {
        Some(i) => {
            let namespace = segs.get(i + 1)?;
            let rest = &segs[i + 2..];
            if rest.is_empty() || !rest.len().is_multiple_of(2) || rest.iter().any(|s| s.is_empty())
            {
                return None;
            }
            let types: Vec<&str> = rest.iter().step_by(2).copied().collect();
            Some(format!("{namespace}/{}", types.join("/")))
        }
        None if segs.len() == 5 && segs[3].eq_ignore_ascii_case("resourceGroups") => {
            Some(types::RG.to_string())
        }
        None => None,
    }
}

/// Why `id` cannot be an object of `t`: its resource type is another (ids that are not
/// ARM-shaped are left to the service to refuse).
pub(crate) fn id_mismatch(t: &ArmType, id: &str) -> Option<String> {
    let Some(of_id) = type_of_id(id) else {
        return Some(format!(
            "`{id}` is not an ARM resource id: expected /subscriptions/SUB/resourceGroups/RG/providers/{}/...",
            t.namespace
        ));
    };
    (!t.is(&of_id)).then(|| {
        format!(
            "`{id}` is the id of a {of_id}, but the resource is {}",
            t.full()
        )
    })
}

/// The full type (`Namespace/type@api-version`) of an id whose type is one plinth knows.
pub(crate) fn known_type_of_id(id: &str) -> Option<String> {
    let of_id = type_of_id(id)?;
    types::KNOWN
        .iter()
        .find(|k| k.type_name.eq_ignore_ascii_case(&of_id))
        .map(|k| format!("{}@{}", k.type_name, k.api_version))
}

/// Fields ARM marks read-only wherever they appear in a body (a resource's or a nested
/// profile's state, versions the service picked, addresses it allocated).
const READ_ONLY: &[&str] = &[
    "provisioningState",
    "powerState",
    "currentOrchestratorVersion",
    "nodeImageVersion",
    "effectiveOutboundIPs",
];

fn strip_read_only(v: &mut Value) {
    match v {
        Value::Map(m) => {
            m.retain(|k, _| !READ_ONLY.contains(&k.as_str()));
            m.values_mut().for_each(strip_read_only);
        }
        Value::List(items) => items.iter_mut().for_each(strip_read_only),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RG: &str = "/subscriptions/s/resourceGroups/orders-rg";

    #[test]
    fn an_arm_id_tells_its_type() {
        assert_eq!(type_of_id(RG).as_deref(), Some(types::RG));
        let queue = format!("{RG}/providers/Microsoft.ServiceBus/namespaces/sb/queues/q");
        assert_eq!(
            type_of_id(&queue).as_deref(),
            Some("Microsoft.ServiceBus/namespaces/queues")
        );
        // An extension resource: the last provider segment.
        let role = format!("{queue}/providers/Microsoft.Authorization/roleAssignments/g");
        assert_eq!(type_of_id(&role).as_deref(), Some(types::ROLE_ASSIGNMENT));
        assert_eq!(type_of_id("/subscriptions/s"), None);
        assert_eq!(type_of_id("rg"), None);
        assert_eq!(
            known_type_of_id(RG).as_deref(),
            Some("Microsoft.Resources/resourceGroups@2025-04-01")
        );
    }

    #[test]
    fn an_id_of_another_type_is_refused() {
        let mi =
            ArmType::parse("Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30").unwrap();
        let why = id_mismatch(&mi, RG).expect("a resource group is no identity");
        assert!(
            why.contains("is the id of a Microsoft.Resources/resourceGroups"),
            "{why}"
        );
        let ok = format!("{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi");
        assert_eq!(id_mismatch(&mi, &ok), None);
        assert_eq!(id_mismatch(&mi, &ok.to_uppercase()), None);
    }
}
