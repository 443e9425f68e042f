//! [`AzureProvider`]: any ARM type as a plinth resource (SPEC §2, §6).
//!
//! Configuration (input shape): `name`, `parent`, `location`, `tags`, `body` (the rest of the
//! ARM body as ARM spells it), and for data sources `id`. Attributes: the object as ARM's GET
//! returns it (`id`, `name`, `type`, `location`, `tags`, `properties`, ...). The diff maps one
//! onto the other (`body.properties.x` ↔ `properties.x`) and compares only what the user set,
//! with ARM's normalisation ([`ArmEq`]).
//!
//! - Ids: resource groups `{parent or /subscriptions/{sub}}/resourceGroups/{name}`; top-level
//!   and extension types `{parent}/providers/{Namespace}/{type}/{name}`; child types
//!   `{parent}/{childType}/{name}`. Known before creation ([`Provider::planned_id`]), and set
//!   in the planned attributes, so references such as `${rg.id}` are known at plan time.
//! - Role assignments: `name` defaults to `guid(scope, roleDefinitionId, principalId)`;
//!   `properties.principalType` defaults to `ServicePrincipal` (sent always, so ARM does not
//!   answer `PrincipalNotFound` for a principal created a moment ago).
//! - A change of `name` or `parent` (or a curated create-only path) replaces the object.
//! - A value ARM never returns (write-only, e.g. a secret) is no diff while it equals what
//!   was last applied; a key under `tags` or `body` that the last apply set and the
//!   configuration dropped is a change (it is removed by the PUT).
//! - Creates and updates are a PUT of `body` + `location` + `tags`, followed by a GET whose
//!   answer is recorded, so the next refresh sees no change.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use plinth_provider::diff::{self, Equivalence};
use plinth_provider::{
    InputSchema, Observed, Planned, Prior, Provider, ProviderError, Request, TypeSchema, ValueKind,
};
use plinth_value::{Map, Path, PathSeg, Value};

use crate::client::ArmClient;
use crate::credential::{IdentityTokenSource, TokenSource};
use crate::request::ArmRequest;
use crate::retry::ReporterObserver;
use crate::settings::AzureSettings;
use crate::types::{self, ArmType};

/// The Azure provider. Creating it does no I/O: the ARM client and its credentials are made
/// on first use.
pub struct AzureProvider {
    settings: AzureSettings,
    client: OnceLock<Result<ArmClient, String>>,
}

impl AzureProvider {
    pub fn new(settings: AzureSettings) -> Self {
        AzureProvider {
            settings,
            client: OnceLock::new(),
        }
    }

    pub fn settings(&self) -> &AzureSettings {
        &self.settings
    }

    fn client(&self) -> Result<&ArmClient, ProviderError> {
        self.client
            .get_or_init(|| {
                let s = &self.settings;
                let http = s.timeouts.client().map_err(|e| e.to_string())?;
                let tokens: Arc<dyn TokenSource> = match &s.token_source {
                    Some(t) => t.clone(),
                    None => Arc::new(
                        IdentityTokenSource::new(&s.credentials, &http)
                            .map_err(|e| e.to_string())?,
                    ),
                };
                ArmClient::builder()
                    .base_url(&s.arm_endpoint)
                    .scope(&s.token_scope)
                    .token_source(tokens)
                    .retry(s.retry.clone())
                    .lro(s.lro.clone())
                    .rate_limits(s.rate_limits)
                    .timeouts(s.timeouts)
                    .http_client(http)
                    .build()
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| ProviderError::new(e.clone()))
    }
}

fn p(s: &str) -> Path {
    s.parse().expect("static path")
}

fn parse_type(type_name: &str) -> Result<ArmType, ProviderError> {
    ArmType::parse(type_name).ok_or_else(|| {
        ProviderError::new(format!(
            "`{type_name}` is not an ARM type: write Namespace/type[/child]@api-version"
        ))
    })
}

fn str_at(v: &Value, path: &str) -> Option<String> {
    v.get(&p(path))
        .and_then(|x| x.unmarked().as_str().map(str::to_string))
}

/// What a string value at `path` is: known (`Some(Some)`), absent (`None`) or unknown.
enum Field {
    Absent,
    Unknown,
    Known(String),
}

fn field(v: &Value, path: &str) -> Field {
    match v.get(&p(path)).map(|x| x.unmark_all()) {
        None | Some(Value::Null) => Field::Absent,
        Some(Value::Unknown) => Field::Unknown,
        Some(Value::String(s)) => Field::Known(s),
        Some(other) => Field::Known(other.to_json().to_string()),
    }
}

/// ARM normalisation: resource ids and locations compare case-insensitively (locations also
/// without spaces: "East US" is "eastus"), GUIDs case-insensitively, and `roleDefinitionId`
/// by its GUID (tenant- and subscription-relative forms are equal). `name` compares
/// case-insensitively.
pub struct ArmEq;

pub fn norm_location(l: &str) -> String {
    l.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

fn last_key(path: &Path) -> Option<&str> {
    match path.segments().last() {
        Some(PathSeg::Key(k)) => Some(k.as_str()),
        _ => None,
    }
}

impl Equivalence for ArmEq {
    fn equal(&self, path: &Path, configured: &Value, actual: &Value) -> bool {
        if diff::scalar_eq(configured, actual) {
            return true;
        }
        let (Value::String(c), Value::String(a)) = (configured.unmarked(), actual.unmarked())
        else {
            return false;
        };
        let key = last_key(path).unwrap_or_default();
        if key.eq_ignore_ascii_case("roleDefinitionId") {
            let guid = |s: &str| {
                s.trim_end_matches('/')
                    .rsplit('/')
                    .next()
                    .map(str::to_ascii_lowercase)
            };
            return guid(c) == guid(a);
        }
        if key.eq_ignore_ascii_case("location") || path.len() == 1 && key == "name" {
            return norm_location(c) == norm_location(a);
        }
        if c.starts_with('/') && a.starts_with('/') {
            return c
                .trim_end_matches('/')
                .eq_ignore_ascii_case(a.trim_end_matches('/'));
        }
        if uuid::Uuid::parse_str(c).is_ok() && uuid::Uuid::parse_str(a).is_ok() {
            return c.eq_ignore_ascii_case(a);
        }
        false
    }
}

/// Attribute path of an input path: `body.x` → `x`; `location`, `tags...`, `name` stay.
fn to_attr(input: &Path) -> Option<Path> {
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
fn to_input(attr: &Path) -> Path {
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
fn refuse_sensitive(config: &Value) -> Result<(), ProviderError> {
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
const RESERVED_BODY_KEYS: &[&str] = &["id", "name", "type", "location", "tags"];

impl AzureProvider {
    fn subscription(&self) -> Option<&str> {
        self.settings.subscription_id.as_deref()
    }

    fn curated_schema(&self, t: &ArmType, type_name: &str) -> TypeSchema {
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
    fn name_of(&self, t: &ArmType, config: &Value) -> Result<Value, ProviderError> {
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
    fn id_of(&self, t: &ArmType, config: &Value) -> Result<Option<String>, ProviderError> {
        let name = match self.name_of(t, config)? {
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
        t.resource_id(parent.as_deref(), &name, self.subscription())
            .map(Some)
            .map_err(ProviderError::new)
    }

    /// The configuration in attribute shape: the body's keys, `name`, `location`, `tags`
    /// (and for role assignments `properties.principalType`, default ServicePrincipal).
    fn desired(&self, t: &ArmType, config: &Value) -> Result<Value, ProviderError> {
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
        m.insert("name".into(), self.name_of(t, config)?);
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
    fn put_body(&self, desired: &Value) -> serde_json::Value {
        let mut body = desired.unmark_all().to_json();
        if let Some(o) = body.as_object_mut() {
            o.remove("name");
        }
        body
    }

    fn schema_of(&self, type_name: &str) -> Result<(ArmType, TypeSchema), ProviderError> {
        let t = parse_type(type_name)?;
        let s = self.curated_schema(&t, type_name);
        Ok((t, s))
    }

    /// Attributes of an object about to be created: the desired shape, the id when it can be
    /// known, computed paths unknown.
    fn new_object(
        &self,
        t: &ArmType,
        schema: &TypeSchema,
        config: &Value,
        desired: &Value,
    ) -> Result<Value, ProviderError> {
        let mut attrs = desired.clone();
        for c in &schema.computed {
            if attrs.get(c).is_none() {
                attrs.set(c, Value::Unknown);
            }
        }
        if let Some(id) = self.id_of(t, config)? {
            attrs.set(&p("id"), Value::String(id));
        }
        diff::mark_sensitive(schema, &mut attrs);
        Ok(attrs)
    }

    async fn get(
        &self,
        req: &Request<'_>,
        id: &str,
        api_version: &str,
    ) -> Result<Option<serde_json::Value>, ProviderError> {
        let client = self.client()?;
        let obs = ReporterObserver {
            reporter: req.reporter,
            address: req.address,
        };
        Ok(client.call(&obs).get_if_exists(id, api_version).await?)
    }

    async fn put(
        &self,
        req: &Request<'_>,
        t: &ArmType,
        id: &str,
        config: &Value,
    ) -> Result<Observed, ProviderError> {
        if let Some(p) = config.unknown_paths().first() {
            return Err(ProviderError::new(format!("`{p}` is unknown")));
        }
        let desired = self.desired(t, config)?;
        let body = self.put_body(&desired);
        let client = self.client()?;
        let obs = ReporterObserver {
            reporter: req.reporter,
            address: req.address,
        };
        let call = client.call(&obs);
        call.put(id, &t.api_version, body).await?;
        // Record what a read returns, so the next refresh sees no change.
        let got = call.get(id, &t.api_version).await?;
        Ok(observed(id, got))
    }

    /// Inputs a configuration needs to match an object as ARM returns it (for import).
    fn inputs_of(&self, t: &ArmType, id: &str, got: &serde_json::Value) -> Value {
        let schema = self.curated_schema(t, "");
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
        inputs.insert("parent".into(), Value::String(types::parent_of(id, t)));
        if !body.is_empty() {
            inputs.insert("body".into(), Value::Map(body));
        }
        Value::Map(inputs)
    }
}

fn observed(id: &str, got: serde_json::Value) -> Observed {
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

/// Deep equality without marks (numbers by value).
fn same(a: &Value, b: &Value) -> bool {
    diff::changed_paths(a, b, &diff::ExactEq).is_empty()
        && diff::changed_paths(b, a, &diff::ExactEq).is_empty()
}

/// Input paths under `tags` and `body` that the last applied inputs set and `config` no
/// longer does (removals).
fn removed_paths(prior_inputs: &Value, config: &Value) -> Vec<Path> {
    fn walk(before: &Value, now: Option<&Value>, at: &Path, out: &mut Vec<Path>) {
        match (before.unmarked(), now.map(Value::unmarked)) {
            (_, None) => out.push(at.clone()),
            (Value::Map(b), Some(Value::Map(n))) => {
                for (k, bv) in b {
                    walk(bv, n.get(k), &at.key(k), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for top in ["tags", "body"] {
        if let Some(before) = prior_inputs.get(&p(top)) {
            match config.get(&p(top)) {
                Some(now) => walk(&before, Some(&now), &p(top), &mut out),
                None => {
                    if let Value::Map(b) = before.unmarked() {
                        for k in b.keys() {
                            out.push(p(top).key(k));
                        }
                    }
                }
            }
        }
    }
    out
}

#[async_trait]
impl Provider for AzureProvider {
    fn name(&self) -> &str {
        "azure"
    }

    fn schema(&self, type_name: &str) -> Option<TypeSchema> {
        self.schema_of(type_name).ok().map(|(_, s)| s)
    }

    fn type_names(&self) -> Vec<String> {
        types::KNOWN
            .iter()
            .map(|k| format!("{}@{}", k.type_name, k.api_version))
            .collect()
    }

    fn validate(&self, type_name: &str, config: &Value) -> Vec<(Path, String)> {
        let Ok(t) = parse_type(type_name) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if config.get(&p("id")).is_some() {
            // A data source read by id.
            return out;
        }
        if config.get(&p("name")).is_none() && !t.is(types::ROLE_ASSIGNMENT) {
            out.push((p("name"), "`name` is required".to_string()));
        }
        if config.get(&p("parent")).is_none() && !t.is_resource_group() {
            out.push((
                p("parent"),
                format!(
                    "`parent` is required for {}: {}",
                    t.full(),
                    if t.is_child() {
                        "the id of the parent resource"
                    } else {
                        "a resource group id (or any scope for extension types)"
                    }
                ),
            ));
        }
        if let Field::Known(parent) = field(config, "parent")
            && let Err(e) = types::check_parent(&parent)
        {
            out.push((p("parent"), e));
        }
        if let Field::Known(name) = field(config, "name")
            && let Err(e) = types::check_name(&t, &name)
        {
            out.push((p("name"), e));
        }
        if let Some(Value::Map(b)) = config.get(&p("body")).map(|v| v.unmarked().clone()) {
            for k in b.keys() {
                if RESERVED_BODY_KEYS.contains(&k.as_str()) {
                    out.push((
                        p("body").key(k),
                        format!("write `{k}` as a top-level input, not inside `body`"),
                    ));
                }
            }
        }
        out
    }

    fn planned_id(&self, type_name: &str, config: &Value) -> Option<String> {
        let t = ArmType::parse(type_name)?;
        self.id_of(&t, config).ok().flatten()
    }

    fn serialization_key(&self, type_name: &str, config: &Value) -> Option<String> {
        let t = ArmType::parse(type_name)?;
        if !t.is(types::FIC) {
            return None;
        }
        str_at(config, "parent").map(|p| format!("azure-fic:{}", p.to_ascii_lowercase()))
    }

    fn estimate(&self, type_name: &str, _config: &Value) -> Duration {
        ArmType::parse(type_name)
            .and_then(|t| t.known().map(types::Known::estimate))
            .unwrap_or(Duration::from_secs(10))
    }

    async fn plan(
        &self,
        req: &Request<'_>,
        prior: Option<&Prior>,
        config: &Value,
    ) -> Result<Planned, ProviderError> {
        let (t, schema) = self.schema_of(req.type_name)?;
        if config.get(&p("id")).is_some() {
            return Err(ProviderError::new(
                "`id` is only for data sources ([data.NAME]); a managed resource is named by `parent` and `name`",
            ));
        }
        let desired = self.desired(&t, config)?;
        let Some(prior) = prior else {
            return Ok(Planned {
                attributes: self.new_object(&t, &schema, config, &desired)?,
                changed: Vec::new(),
                requires_replace: Vec::new(),
            });
        };
        let actual = &prior.attributes;
        let mut compare = desired.clone();
        compare.remove(&p("name"));
        let mut changed: Vec<Path> = Vec::new();
        for attr_path in diff::changed_paths(&compare, actual, &ArmEq) {
            let input_path = to_input(&attr_path);
            // A field ARM never returns (write-only, e.g. a secret) is unchanged when it is
            // what was last applied.
            if actual.get(&attr_path).is_none()
                && let (Some(now), Some(before)) =
                    (config.get(&input_path), prior.inputs.get(&input_path))
                && now.is_wholly_known()
                && same(&now, &before)
            {
                continue;
            }
            changed.push(input_path);
        }
        // Paths the last apply set that the configuration dropped, still on the object.
        let mut dropped = Vec::new();
        for input_path in removed_paths(&prior.inputs, config) {
            if let Some(attr_path) = to_attr(&input_path)
                && actual
                    .get(&attr_path)
                    .is_some_and(|v| !matches!(v, Value::Null))
            {
                dropped.push(attr_path);
                changed.push(input_path);
            }
        }
        // Name and parent: the id they make against the object's.
        if let Some(prior_id) = &prior.id {
            let same_name = match (desired.get(&p("name")), actual.get(&p("name"))) {
                (Some(Value::String(a)), Some(Value::String(b))) => a.eq_ignore_ascii_case(&b),
                (Some(Value::String(a)), _) => prior_id
                    .rsplit('/')
                    .next()
                    .is_some_and(|n| n.eq_ignore_ascii_case(&a)),
                _ => false,
            };
            if !same_name {
                changed.push(p("name"));
            }
            match field(config, "parent") {
                Field::Unknown => changed.push(p("parent")),
                Field::Known(parent) => {
                    let was = types::parent_of(prior_id, &t);
                    if !parent
                        .trim_end_matches('/')
                        .eq_ignore_ascii_case(was.trim_end_matches('/'))
                    {
                        changed.push(p("parent"));
                    }
                }
                Field::Absent => {
                    if let Ok(Some(id)) = self.id_of(&t, config)
                        && same_name
                        && !id.eq_ignore_ascii_case(prior_id)
                    {
                        changed.push(p("parent"));
                    }
                }
            }
        }
        let requires_replace: Vec<Path> = changed
            .iter()
            .filter(|c| schema.force_new.iter().any(|f| c.overlaps(f)))
            .cloned()
            .collect();
        let attributes = if requires_replace.is_empty() {
            let mut a = diff::overlay(actual, &desired);
            for d in &dropped {
                a.remove(d);
            }
            diff::mark_sensitive(&schema, &mut a);
            a
        } else {
            self.new_object(&t, &schema, config, &desired)?
        };
        Ok(Planned {
            attributes,
            changed,
            requires_replace,
        })
    }

    async fn read(
        &self,
        req: &Request<'_>,
        prior: &Prior,
    ) -> Result<Option<Observed>, ProviderError> {
        let t = parse_type(req.type_name)?;
        let id = match &prior.id {
            Some(id) => id.clone(),
            None => match self.id_of(&t, &prior.inputs)? {
                Some(id) => id,
                None => return Ok(None),
            },
        };
        Ok(self
            .get(req, &id, &t.api_version)
            .await?
            .map(|got| observed(&id, got)))
    }

    async fn read_data(
        &self,
        req: &Request<'_>,
        config: &Value,
    ) -> Result<Observed, ProviderError> {
        let t = parse_type(req.type_name)?;
        let id = match field(config, "id") {
            Field::Known(id) => id,
            _ => self.id_of(&t, config)?.ok_or_else(|| {
                ProviderError::new("a data source needs `id`, or `name` and `parent`")
            })?,
        };
        match self.get(req, &id, &t.api_version).await? {
            Some(got) => Ok(observed(&id, got)),
            None => Err(ProviderError::with_code(
                "ResourceNotFound",
                format!("{id} was not found"),
            )),
        }
    }

    async fn create(&self, req: &Request<'_>, config: &Value) -> Result<Observed, ProviderError> {
        let t = parse_type(req.type_name)?;
        let id = self
            .id_of(&t, config)?
            .ok_or_else(|| ProviderError::new("the resource id is not known"))?;
        self.put(req, &t, &id, config).await
    }

    async fn update(
        &self,
        req: &Request<'_>,
        prior: &Prior,
        config: &Value,
    ) -> Result<Observed, ProviderError> {
        let t = parse_type(req.type_name)?;
        let id = match &prior.id {
            Some(id) => id.clone(),
            None => self
                .id_of(&t, config)?
                .ok_or_else(|| ProviderError::new("the resource id is not known"))?,
        };
        self.put(req, &t, &id, config).await
    }

    async fn delete(&self, req: &Request<'_>, prior: &Prior) -> Result<(), ProviderError> {
        let t = parse_type(req.type_name)?;
        let Some(id) = prior
            .id
            .clone()
            .or_else(|| self.id_of(&t, &prior.inputs).ok().flatten())
        else {
            return Ok(());
        };
        let client = self.client()?;
        let obs = ReporterObserver {
            reporter: req.reporter,
            address: req.address,
        };
        let call = client.call(&obs);
        let accepted = match call.send(&ArmRequest::delete(&id, &t.api_version)).await {
            Ok(resp) => resp,
            Err(e) if e.is_not_found() => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        // ARM took the delete: from here on the object may be going (or gone) whatever the
        // wait for the operation says, so a failure says the delete was accepted.
        call.complete(accepted, &reqwest::Method::DELETE, &id, &t.api_version)
            .await
            .map_err(|e| {
                let pe = ProviderError::from(e);
                ProviderError {
                    message: format!(
                        "ARM accepted the delete, but waiting for it to finish failed: {}; the next plan checks whether it is gone",
                        pe.message
                    ),
                    ..pe
                }
                .after_accepted()
            })?;
        Ok(())
    }

    async fn import(
        &self,
        req: &Request<'_>,
        id: &str,
    ) -> Result<(Observed, Value), ProviderError> {
        let t = parse_type(req.type_name)?;
        let got = self.get(req, id, &t.api_version).await?.ok_or_else(|| {
            ProviderError::with_code("ResourceNotFound", format!("{id} was not found"))
        })?;
        let inputs = self.inputs_of(&t, id, &got);
        Ok((observed(id, got), inputs))
    }

    fn attribute_path(&self, _type_name: &str, input_path: &Path) -> Option<Path> {
        to_attr(input_path)
    }

    fn functions(&self) -> Vec<String> {
        vec!["role_definition_id".into()]
    }

    fn call_function(&self, name: &str, args: &[Value]) -> Result<Value, ProviderError> {
        match (name, args) {
            ("role_definition_id", [Value::String(role)]) => types::role_definition_id(role)
                .map(Value::String)
                .map_err(ProviderError::new),
            ("role_definition_id", _) => Err(ProviderError::new(
                "azure.role_definition_id takes one string: a built-in role name such as \"Reader\"",
            )),
            (other, _) => Err(ProviderError::new(format!(
                "azure.{other} is not a function"
            ))),
        }
    }
}

impl AzureProvider {
    /// The kubeconfig (YAML) of an AKS cluster: `POST {cluster_id}/listClusterUserCredential`
    /// (`listClusterAdminCredential` when `admin`), api-version 2025-10-01, the first of the
    /// answer's `kubeconfigs`, base64-decoded. `Ok(None)` when ARM answers 404 (no such
    /// cluster). The kubeconfig holds a credential: callers keep it in memory only.
    pub async fn cluster_kubeconfig(
        &self,
        cluster_id: &str,
        admin: bool,
    ) -> Result<Option<String>, ProviderError> {
        use base64::Engine as _;
        let action = if admin {
            "listClusterAdminCredential"
        } else {
            "listClusterUserCredential"
        };
        let client = self.client()?;
        let answer = match client.post(cluster_id, action, "2025-10-01", None).await {
            Ok(a) => a,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let encoded = answer
            .pointer("/kubeconfigs/0/value")
            .and_then(|v| v.as_str())
            .ok_or_else(|| {
                ProviderError::new(format!("{action} of {cluster_id} answered no kubeconfig"))
            })?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| {
                ProviderError::new(format!(
                    "{action} of {cluster_id} answered a kubeconfig that is not base64"
                ))
            })?;
        String::from_utf8(bytes).map(Some).map_err(|_| {
            ProviderError::new(format!(
                "{action} of {cluster_id} answered a kubeconfig that is not UTF-8"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plinth_provider::NullReporter;
    use serde_json::json;

    fn provider() -> AzureProvider {
        let mut s = AzureSettings::from_lookup(|_| None);
        s.subscription_id = Some("sub".into());
        AzureProvider::new(s)
    }

    fn req(t: &str) -> Request<'_> {
        Request::new(t, "x", &NullReporter)
    }

    const AKS: &str = "Microsoft.ContainerService/managedClusters@2025-10-01";

    #[test]
    fn schema_accepts_any_well_formed_type() {
        let pr = provider();
        assert!(pr.schema("Microsoft.Web/sites@2024-04-01").is_some());
        assert!(pr.schema("nonsense").is_none());
        assert_eq!(pr.type_names().len(), 7);
        let s = pr.schema(AKS).unwrap();
        assert!(s.force_new.contains(&p("body.properties.dnsPrefix")));
        assert!(
            s.computed
                .contains(&p("properties.oidcIssuerProfile.issuerURL"))
        );
    }

    #[test]
    fn equivalence_normalises_arm() {
        let eq = ArmEq;
        let s = |x: &str| Value::from(x);
        assert!(eq.equal(&p("location"), &s("East US"), &s("eastus")));
        assert!(eq.equal(
            &p("properties.scope"),
            &s("/subscriptions/A/resourceGroups/X"),
            &s("/subscriptions/a/resourcegroups/x")
        ));
        assert!(eq.equal(
            &p("properties.roleDefinitionId"),
            &s("/providers/Microsoft.Authorization/roleDefinitions/090C5CFD-751d-490a-894a-3ce6f1109419"),
            &s("/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/090c5cfd-751d-490a-894a-3ce6f1109419")
        ));
        assert!(!eq.equal(&p("properties.x"), &s("A"), &s("a")));
    }

    #[tokio::test]
    async fn plan_maps_paths_and_replaces_on_dns_prefix() {
        let pr = provider();
        let cfg = Value::from(
            json!({"name": "k", "parent": "/subscriptions/sub/resourceGroups/g", "location": "East US",
            "tags": {"a": "1"}, "body": {"properties": {"dnsPrefix": "new", "x": 1}}}),
        );
        let actual = json!({"id": "/subscriptions/sub/resourceGroups/g/providers/Microsoft.ContainerService/managedClusters/k",
            "name": "k", "location": "eastus", "tags": {"a": "1", "b": "2"},
            "properties": {"dnsPrefix": "old", "x": 1.0, "fqdn": "f"}});
        let prior = Prior {
            id: actual["id"].as_str().map(str::to_string),
            inputs: Value::Null,
            attributes: Value::from(actual),
        };
        let planned = pr.plan(&req(AKS), Some(&prior), &cfg).await.unwrap();
        assert_eq!(planned.changed, vec![p("body.properties.dnsPrefix")]);
        assert_eq!(
            planned.requires_replace,
            vec![p("body.properties.dnsPrefix")]
        );
        let fresh = pr.plan(&req(AKS), None, &cfg).await.unwrap();
        assert_eq!(
            fresh.attributes.get(&p("properties.fqdn")),
            Some(Value::Unknown)
        );
        assert_eq!(
            fresh
                .attributes
                .get(&p("id"))
                .and_then(|v| v.as_str().map(str::to_string)),
            prior.id
        );
    }

    #[tokio::test]
    async fn dropped_tags_are_a_change_and_role_assignment_names_are_guids() {
        let pr = provider();
        let t = "Microsoft.Resources/resourceGroups@2025-04-01";
        let prior = Prior {
            id: Some("/subscriptions/sub/resourceGroups/g".into()),
            inputs: Value::from(
                json!({"name": "g", "location": "eastus", "tags": {"a": "1", "b": "2"}}),
            ),
            attributes: Value::from(
                json!({"id": "/subscriptions/sub/resourceGroups/g", "name": "g", "location": "eastus", "tags": {"a": "1", "b": "2"}}),
            ),
        };
        let cfg = Value::from(json!({"name": "g", "location": "eastus", "tags": {"a": "1"}}));
        let planned = pr.plan(&req(t), Some(&prior), &cfg).await.unwrap();
        assert_eq!(planned.changed, vec![p("tags.b")]);
        assert!(planned.requires_replace.is_empty());
        assert_eq!(planned.attributes.get(&p("tags.b")), None);

        let ra = "Microsoft.Authorization/roleAssignments@2022-04-01";
        let cfg = Value::from(
            json!({"parent": "/s", "body": {"properties": {"roleDefinitionId": "/r/1", "principalId": "p"}}}),
        );
        let id = pr.planned_id(ra, &cfg).unwrap();
        assert_eq!(
            id,
            format!(
                "/s/providers/Microsoft.Authorization/roleAssignments/{}",
                plinth_expr::guid(&["/s", "/r/1", "p"])
            )
        );
        let d = pr.desired(&ArmType::parse(ra).unwrap(), &cfg).unwrap();
        assert_eq!(
            d.get(&p("properties.principalType")),
            Some(Value::from("ServicePrincipal"))
        );
        assert_eq!(
            pr.serialization_key("Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2024-11-30", &Value::from(json!({"parent": "/A/B"}))),
            Some("azure-fic:/a/b".into())
        );
    }
}
