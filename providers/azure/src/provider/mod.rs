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
//! - What ARM computes but plan time already knows is planned known, never "known after
//!   apply": `type` (in ARM's casing for the curated types), a role assignment's
//!   `properties.scope` (its `parent`), an AKS cluster's default node resource group, a
//!   Service Bus namespace's endpoint and metric id ([`shape::known_before_create`]); a
//!   public AKS cluster has no `privateFQDN`.
//! - `is_volatile` (ARM's bookkeeping and the curated types' status, timestamps and counts,
//!   decided per attribute in `types::KNOWN`), `input_path` (the inverse of
//!   `attribute_path`) and `annotations` (a role definition id's built-in role name).
//! - Role assignments: `name` defaults to `guid(scope, roleDefinitionId, principalId)`;
//!   `properties.principalType` defaults to `ServicePrincipal` (sent always, so ARM does not
//!   answer `PrincipalNotFound` for a principal created a moment ago).
//! - A change of `name` or `parent` (or a curated create-only path) replaces the object.
//! - A value ARM never returns (write-only, e.g. a secret) is no diff while it equals what
//!   was last applied; a key under `tags` or `body` that the last apply set and the
//!   configuration dropped is a change (it is removed by the PUT).
//! - Creates and updates are a PUT of `body` + `location` + `tags`, followed by a GET whose
//!   answer is recorded, so the next refresh sees no change.
//!
//! Layout: `shape` (configuration ↔ ARM body and attributes, schemas, ids; pure),
//! `equivalence` ([`ArmEq`]; pure), `plan` (the diff; pure, over the two), `batch` (reads of
//! many objects by one collection list), and this module:
//! [`AzureProvider`], the `Provider` trait over the ARM client.

mod batch;
mod equivalence;
mod plan;
mod shape;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use plinth_provider::{
    BatchRead, Observed, Planned, Prior, Provider, ProviderError, Request, TypeSchema,
};
use plinth_value::{Path, Value};

use crate::client::ArmClient;
use crate::credential::{IdentityTokenSource, TokenSource};
use crate::request::ArmRequest;
use crate::retry::ReporterObserver;
use crate::settings::AzureSettings;
use crate::types::{self, ArmType};

pub use equivalence::ArmEq;
use shape::{
    Field, RESERVED_BODY_KEYS, field, id_of, inputs_of, observed, p, parse_type, put_body,
    schema_of, str_at, to_attr,
};

/// The Azure provider. Creating it does no I/O: the ARM client and its credentials are made
/// on first use.
pub struct AzureProvider {
    settings: AzureSettings,
    client: OnceLock<Result<ArmClient, String>>,
}

impl AzureProvider {
    /// A provider with `settings`; does no I/O (the client is made on first use, and a bad
    /// credential configuration is reported then).
    pub fn new(settings: AzureSettings) -> Self {
        AzureProvider {
            settings,
            client: OnceLock::new(),
        }
    }

    /// The settings the provider was made with.
    pub fn settings(&self) -> &AzureSettings {
        &self.settings
    }

    fn client(&self) -> Result<&ArmClient, ProviderError> {
        self.client
            .get_or_init(|| {
                let s = &self.settings;
                let http = s.http_client().map_err(|e| e.to_string())?;
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

impl AzureProvider {
    fn subscription(&self) -> Option<&str> {
        self.settings.subscription_id.as_deref()
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
        let desired = shape::desired(t, config)?;
        let body = put_body(&desired);
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
}

#[async_trait]
impl Provider for AzureProvider {
    fn name(&self) -> &str {
        "azure"
    }

    /// Credentials, subscription and endpoint come from the root's `[provider.azure]`, read
    /// once when the provider is built (`AzureSettings`), never from a request.
    fn settings_per_request(&self) -> bool {
        false
    }

    fn schema(&self, type_name: &str) -> Option<TypeSchema> {
        schema_of(type_name).ok().map(|(_, s)| s)
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
        id_of(&t, config, self.subscription()).ok().flatten()
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
        let (t, schema) = schema_of(req.type_name)?;
        plan::plan(
            &t,
            &schema,
            self.subscription(),
            self.settings.service_bus_suffix(),
            prior,
            config,
        )
    }

    async fn read(
        &self,
        req: &Request<'_>,
        prior: &Prior,
    ) -> Result<Option<Observed>, ProviderError> {
        let t = parse_type(req.type_name)?;
        let id = match &prior.id {
            Some(id) => id.clone(),
            None => match id_of(&t, &prior.inputs, self.subscription())? {
                Some(id) => id,
                None => return Ok(None),
            },
        };
        Ok(self
            .get(req, &id, &t.api_version)
            .await?
            .map(|got| observed(&id, got)))
    }

    /// The collection the object is listed in, for the curated types whose list items are
    /// what a GET answers (see `batch`); `None` for the others (read alone with a GET).
    fn batch_key(&self, req: &Request<'_>, prior: &Prior) -> Option<String> {
        self.key_of(req, prior)
    }

    /// One list of the collection (and its `nextLink` pages) for the batch; objects it does
    /// not hold are confirmed with their own GET (see `batch`).
    async fn read_batch(
        &self,
        reads: &[BatchRead<'_>],
    ) -> Vec<Result<Option<Observed>, ProviderError>> {
        self.read_many(reads).await
    }

    async fn read_data(
        &self,
        req: &Request<'_>,
        config: &Value,
    ) -> Result<Observed, ProviderError> {
        let t = parse_type(req.type_name)?;
        let id = match field(config, "id") {
            Field::Known(id) => id,
            _ => id_of(&t, config, self.subscription())?.ok_or_else(|| {
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
        let id = id_of(&t, config, self.subscription())?
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
            None => id_of(&t, config, self.subscription())?
                .ok_or_else(|| ProviderError::new("the resource id is not known"))?,
        };
        self.put(req, &t, &id, config).await
    }

    async fn delete(&self, req: &Request<'_>, prior: &Prior) -> Result<(), ProviderError> {
        let t = parse_type(req.type_name)?;
        let Some(id) = prior
            .id
            .clone()
            .or_else(|| id_of(&t, &prior.inputs, self.subscription()).ok().flatten())
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

    fn import_id_mismatch(&self, type_name: &str, id: &str) -> Option<String> {
        shape::id_mismatch(&parse_type(type_name).ok()?, id)
    }

    fn type_of_id(&self, id: &str) -> Option<String> {
        shape::known_type_of_id(id)
    }

    async fn import(
        &self,
        req: &Request<'_>,
        id: &str,
    ) -> Result<(Observed, Value), ProviderError> {
        let t = parse_type(req.type_name)?;
        if let Some(why) = shape::id_mismatch(&t, id) {
            return Err(ProviderError::new(why));
        }
        let got = self.get(req, id, &t.api_version).await?.ok_or_else(|| {
            ProviderError::with_code("ResourceNotFound", format!("{id} was not found"))
        })?;
        let inputs = inputs_of(&t, id, &got);
        Ok((observed(id, got), inputs))
    }

    fn attribute_path(&self, _type_name: &str, input_path: &Path) -> Option<Path> {
        to_attr(input_path)
    }

    /// `properties.x` is set by `body.properties.x`, `location` and `tags` (and `name`) by
    /// themselves; nothing sets the id, the type, ARM's bookkeeping, a volatile attribute or
    /// a curated read-only one (`properties.clientId` of an identity).
    fn input_path(&self, type_name: &str, attribute_path: &Path) -> Option<Path> {
        let t = ArmType::parse(type_name)?;
        let not_input = attribute_path.is_root()
            || types::NOT_INPUTS
                .iter()
                .any(|n| attribute_path.starts_with(&types::static_path(n)))
            || t.is_volatile(attribute_path)
            || t.known().is_some_and(|k| k.read_only(attribute_path));
        (!not_input).then(|| shape::to_input(attribute_path))
    }

    /// ARM's bookkeeping on every type (`systemData`, `etag`, `provisioningState` at any
    /// depth) and the curated volatile attributes of the seven types (`types::KNOWN`, each
    /// with its reason).
    fn is_volatile(&self, type_name: &str, attribute_path: &Path) -> bool {
        ArmType::parse(type_name).is_some_and(|t| t.is_volatile(attribute_path))
    }

    /// A role assignment's `properties.roleDefinitionId` → the built-in role's name
    /// (`Azure Service Bus Data Owner`), from the same table `azure.role_definition_id`
    /// reads; nothing for a role plinth does not know, or a sensitive value.
    fn annotations(&self, type_name: &str, attributes: &Value) -> Vec<(Path, String)> {
        let Some(t) = ArmType::parse(type_name) else {
            return vec![];
        };
        if !t.is(types::ROLE_ASSIGNMENT) {
            return vec![];
        }
        let at = p("properties.roleDefinitionId");
        match attributes.get(&at) {
            Some(v) if !v.contains_sensitive() => {
                match v.unmarked().as_str().and_then(types::role_name) {
                    Some(name) => vec![(at, name.to_string())],
                    None => vec![],
                }
            }
            _ => vec![],
        }
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
mod tests;
