//! [`AzureSettings`]: where ARM is, which subscription, how to authenticate — from the
//! environment (`ARM_*` / `AZURE_*`), for the simulated cloud, and from `[provider.azure]`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use plinth_value::Value;

use crate::client::{DEFAULT_BASE_URL, HttpTimeouts, LroPolicy};
use crate::credential::{ARM_SCOPE, CredentialConfig, TokenSource};
use crate::ratelimit::RateLimits;
use crate::retry::RetryPolicy;

/// The subscription the simulated cloud uses when none is configured.
pub const SIM_SUBSCRIPTION: &str = "00000000-0000-0000-0000-000000000000";
/// The tenant used for the simulator's default client-secret credential.
pub const SIM_TENANT: &str = "11111111-2222-3333-4444-555555555555";
/// The client id of the simulator's default client-secret credential.
pub const SIM_CLIENT_ID: &str = "plinth";
/// The secret of the simulator's default client-secret credential.
pub const SIM_CLIENT_SECRET: &str = "plinth-sim";

/// The keys `[provider.azure]` accepts.
pub const CONFIG_KEYS: &[&str] = &[
    "subscription_id",
    "tenant_id",
    "client_id",
    "client_secret",
    "use_oidc",
    "oidc_token_file_path",
    "use_msi",
    "use_cli",
    "environment",
    "endpoint",
    "authority_host",
    "connect_timeout",
    "request_timeout",
];

/// The longest `connect_timeout` / `request_timeout`.
const MAX_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// Everything the Azure provider needs to reach ARM. Nothing here does I/O.
#[derive(Clone)]
pub struct AzureSettings {
    /// ARM's base URL (default `https://management.azure.com`; the simulator's URL with `--sim`).
    pub arm_endpoint: String,
    /// The subscription resource groups are created in (`ARM_SUBSCRIPTION_ID`).
    pub subscription_id: Option<String>,
    /// How to authenticate (`ARM_*` / `AZURE_*`, `[provider.azure]`); unused when
    /// `token_source` is set.
    pub credentials: CredentialConfig,
    /// Scope of the ARM tokens (`https://management.azure.com/.default` on the public cloud).
    pub token_scope: String,
    /// When and how often failed requests are retried.
    pub retry: RetryPolicy,
    /// How long-running operations are polled.
    pub lro: LroPolicy,
    /// Connect and per-request timeouts (`connect_timeout`, `request_timeout`).
    pub timeouts: HttpTimeouts,
    /// Client-side token buckets (`None` turns them off).
    pub rate_limits: Option<RateLimits>,
    /// Tokens from here instead of `credentials` (tests).
    pub token_source: Option<Arc<dyn TokenSource>>,
    /// CA certificates (PEM) trusted instead of the system's, for ARM and the token endpoint:
    /// the simulator's own CA when it serves HTTPS ([`AzureSettings::with_ca_pem`]).
    pub ca_pem: Option<String>,
    /// The DNS suffix of Service Bus endpoints in this cloud (`servicebus.windows.net`), when
    /// the ARM endpoint does not tell it (the simulator, which answers as the public cloud
    /// does); see [`AzureSettings::service_bus_suffix`].
    pub service_bus_suffix: Option<String>,
}

impl std::fmt::Debug for AzureSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureSettings")
            .field("arm_endpoint", &self.arm_endpoint)
            .field("subscription_id", &self.subscription_id)
            .field("tenant_id", &self.credentials.tenant_id)
            .field("client_id", &self.credentials.client_id)
            .field("token_scope", &self.token_scope)
            .finish_non_exhaustive()
    }
}

/// ARM endpoint, authority host and token scope of a named cloud (Terraform's `ARM_ENVIRONMENT`).
fn environment(name: &str) -> Option<(&'static str, &'static str, &'static str)> {
    match name.trim().to_ascii_lowercase().as_str() {
        "public" | "azurecloud" | "azurepubliccloud" => Some((
            DEFAULT_BASE_URL,
            "https://login.microsoftonline.com",
            ARM_SCOPE,
        )),
        "usgovernment" | "azureusgovernment" | "azureusgovernmentcloud" => Some((
            "https://management.usgovcloudapi.net",
            "https://login.microsoftonline.us",
            "https://management.usgovcloudapi.net/.default",
        )),
        "china" | "azurechinacloud" => Some((
            "https://management.chinacloudapi.cn",
            "https://login.chinacloudapi.cn",
            "https://management.chinacloudapi.cn/.default",
        )),
        _ => None,
    }
}

impl AzureSettings {
    fn base(credentials: CredentialConfig) -> Self {
        AzureSettings {
            arm_endpoint: DEFAULT_BASE_URL.to_string(),
            subscription_id: None,
            credentials,
            token_scope: ARM_SCOPE.to_string(),
            retry: RetryPolicy::default(),
            lro: LroPolicy::default(),
            timeouts: HttpTimeouts::default(),
            rate_limits: Some(RateLimits::default()),
            token_source: None,
            ca_pem: None,
            service_bus_suffix: None,
        }
    }

    /// The DNS suffix of Service Bus endpoints (`https://NAME.SUFFIX:443/`) in the cloud the
    /// ARM endpoint names: `servicebus.windows.net` (public), `servicebus.usgovcloudapi.net`,
    /// `servicebus.chinacloudapi.cn` (the suffixes `az cloud show` lists), or the one set in
    /// [`AzureSettings::service_bus_suffix`]; `None` for another endpoint (Azure Stack, a
    /// proxy), where plinth does not guess.
    pub fn service_bus_suffix(&self) -> Option<&str> {
        if let Some(s) = &self.service_bus_suffix {
            return Some(s);
        }
        match self.arm_endpoint.trim_end_matches('/') {
            DEFAULT_BASE_URL => Some("servicebus.windows.net"),
            "https://management.usgovcloudapi.net" => Some("servicebus.usgovcloudapi.net"),
            "https://management.chinacloudapi.cn" => Some("servicebus.chinacloudapi.cn"),
            _ => None,
        }
    }

    /// From the process environment: `ARM_SUBSCRIPTION_ID` / `AZURE_SUBSCRIPTION_ID`,
    /// `ARM_ENVIRONMENT` (public, usgovernment, china), `ARM_ENDPOINT` (an ARM URL), and the
    /// credentials of [`CredentialConfig::from_env`].
    pub fn from_env() -> Self {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Like [`AzureSettings::from_env`] from any variable lookup.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        let first = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| get(n).filter(|v| !v.trim().is_empty()))
        };
        let mut s = Self::base(CredentialConfig::from_lookup(&get));
        s.subscription_id = first(&["ARM_SUBSCRIPTION_ID", "AZURE_SUBSCRIPTION_ID"]);
        if let Some(env) = first(&["ARM_ENVIRONMENT", "AZURE_ENVIRONMENT"]) {
            let _ = s.set_environment(&env);
        }
        if let Some(url) = first(&["ARM_ENDPOINT", "AZURE_ARM_ENDPOINT"]) {
            s.arm_endpoint = url.trim_end_matches('/').to_string();
        }
        s
    }

    /// For the simulated cloud at `url`: ARM and the authority host are the simulator; when
    /// no complete client-secret or workload-identity credential is configured, a client-secret
    /// credential the simulator accepts (client `plinth`, secret `plinth-sim`); the Azure CLI
    /// and managed identity are never tried; the subscription defaults to
    /// `00000000-0000-0000-0000-000000000000`. Polls and retries are short (the simulator's
    /// operations take seconds at most).
    pub fn for_sim(url: &str) -> Self {
        Self::for_sim_with(url, |k| std::env::var(k).ok())
    }

    /// [`AzureSettings::for_sim`] with any variable lookup.
    pub fn for_sim_with(url: &str, get: impl Fn(&str) -> Option<String>) -> Self {
        let mut s = Self::from_lookup(get);
        let url = url.trim_end_matches('/').to_string();
        s.arm_endpoint = url.clone();
        s.token_scope = ARM_SCOPE.to_string();
        let c = &mut s.credentials;
        c.authority_host = Some(url);
        c.use_cli = false;
        c.use_msi = false;
        let secret = c.tenant_id.is_some() && c.client_id.is_some() && c.client_secret.is_some();
        let oidc = c.use_oidc
            && c.tenant_id.is_some()
            && c.client_id.is_some()
            && c.oidc_token_file.is_some();
        if !secret && !oidc {
            c.tenant_id.get_or_insert_with(|| SIM_TENANT.to_string());
            c.client_id = Some(SIM_CLIENT_ID.to_string());
            c.client_secret = Some(SIM_CLIENT_SECRET.to_string());
            c.use_oidc = false;
        }
        s.subscription_id
            .get_or_insert_with(|| SIM_SUBSCRIPTION.to_string());
        // The simulator answers Service Bus endpoints as the public cloud does.
        s.service_bus_suffix = Some("servicebus.windows.net".into());
        s.lro = LroPolicy {
            poll_interval: Duration::from_millis(200),
            max_poll_interval: Duration::from_secs(1),
            timeout: Duration::from_secs(30 * 60),
        };
        s.retry = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(2),
            max_attempts: 30,
            ..RetryPolicy::default()
        };
        s
    }

    /// Trusts exactly the CA certificates in `pem` (the simulator's, under `plinth sim serve
    /// --tls`: with [`AzureSettings::for_sim`] on its `https://` URL), never the system's.
    pub fn with_ca_pem(mut self, pem: impl Into<String>) -> Self {
        self.ca_pem = Some(pem.into());
        self
    }

    /// The HTTP client ARM's and the token endpoint's requests go through: these timeouts,
    /// and [`AzureSettings::ca_pem`] trusted when set.
    pub fn http_client(&self) -> crate::error::Result<reqwest::Client> {
        self.timeouts.client_trusting(self.ca_pem.as_deref())
    }

    fn set_environment(&mut self, name: &str) -> Result<(), String> {
        let (arm, authority, scope) = environment(name).ok_or_else(|| {
            format!("unknown environment `{name}`: expected public, usgovernment or china")
        })?;
        self.arm_endpoint = arm.to_string();
        self.token_scope = scope.to_string();
        // An authority host given explicitly (ARM_AUTHORITY_HOST, `authority_host`) wins.
        self.credentials
            .authority_host
            .get_or_insert_with(|| authority.to_string());
        Ok(())
    }

    /// Applies the evaluated `[provider.azure]` table: `subscription_id`, `tenant_id`,
    /// `client_id`, `client_secret`, `use_oidc`, `oidc_token_file_path`, `use_msi`, `use_cli`,
    /// `environment` (public, usgovernment, china), `endpoint` (an ARM URL),
    /// `authority_host`, and `connect_timeout` / `request_timeout` (durations such as "30s";
    /// defaults 10s and 30s). A null value (e.g. an unset `${env.X}`) leaves the setting as it is.
    /// Unknown keys are an error naming them.
    pub fn apply_config(&mut self, config: &Value) -> Result<(), String> {
        let map = match config.unmarked() {
            Value::Null => return Ok(()),
            Value::Map(m) => m,
            other => {
                return Err(format!(
                    "expected a table of settings, found {}",
                    other.type_name()
                ));
            }
        };
        let unknown: Vec<String> = map
            .keys()
            .filter(|k| !CONFIG_KEYS.contains(&k.as_str()))
            .map(
                |k| match plinth_expr::did_you_mean(k, CONFIG_KEYS.iter().copied()) {
                    Some(s) => format!("`{k}` (did you mean `{s}`?)"),
                    None => format!("`{k}`"),
                },
            )
            .collect();
        if !unknown.is_empty() {
            return Err(format!(
                "unknown setting{} {}; [provider.azure] takes: {}",
                if unknown.len() == 1 { "" } else { "s" },
                unknown.join(", "),
                CONFIG_KEYS.join(", ")
            ));
        }
        // The environment first: an explicit endpoint or authority host wins over it.
        let mut keys: Vec<&String> = map.keys().collect();
        keys.sort_by_key(|k| *k != "environment");
        for key in keys {
            let v = map[key].unmark_all();
            if matches!(v, Value::Null) {
                continue;
            }
            let string = || -> Result<String, String> {
                match &v {
                    Value::String(s) => Ok(s.clone()),
                    other => Err(format!(
                        "`{key}` must be a string, found {}",
                        other.type_name()
                    )),
                }
            };
            let boolean = || -> Result<bool, String> {
                match &v {
                    Value::Bool(b) => Ok(*b),
                    Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                        "true" | "1" | "yes" => Ok(true),
                        "false" | "0" | "no" | "" => Ok(false),
                        _ => Err(format!("`{key}` must be true or false, found \"{s}\"")),
                    },
                    other => Err(format!(
                        "`{key}` must be a bool, found {}",
                        other.type_name()
                    )),
                }
            };
            let duration = || -> Result<std::time::Duration, String> {
                let s = string()?;
                let d = humantime::parse_duration(s.trim()).map_err(|e| {
                    format!("`{key}`: \"{s}\" is not a duration ({e}); write e.g. \"30s\"")
                })?;
                if d.is_zero() || d > MAX_TIMEOUT {
                    return Err(format!(
                        "`{key}` must be more than 0s and at most {}, found \"{s}\"",
                        humantime::format_duration(MAX_TIMEOUT)
                    ));
                }
                Ok(d)
            };
            let c = &mut self.credentials;
            match key.as_str() {
                "subscription_id" => self.subscription_id = Some(string()?),
                "tenant_id" => c.tenant_id = Some(string()?),
                "client_id" => c.client_id = Some(string()?),
                "client_secret" => c.client_secret = Some(string()?),
                "use_oidc" => c.use_oidc = boolean()?,
                "oidc_token_file_path" => {
                    c.oidc_token_file = Some(PathBuf::from(string()?));
                    c.use_oidc = true;
                }
                "use_msi" => c.use_msi = boolean()?,
                "use_cli" => c.use_cli = boolean()?,
                "environment" => self.set_environment(&string()?)?,
                "endpoint" => self.arm_endpoint = string()?.trim_end_matches('/').to_string(),
                "authority_host" => c.authority_host = Some(string()?),
                "connect_timeout" => self.timeouts.connect = duration()?,
                "request_timeout" => self.timeouts.request = duration()?,
                _ => unreachable!("checked above"),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(env: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            env.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn from_env_reads_subscription_and_environment() {
        let s = AzureSettings::from_lookup(lookup(&[
            ("AZURE_SUBSCRIPTION_ID", "sub-a"),
            ("ARM_ENVIRONMENT", "china"),
        ]));
        assert_eq!(s.subscription_id.as_deref(), Some("sub-a"));
        assert_eq!(s.arm_endpoint, "https://management.chinacloudapi.cn");
        assert_eq!(
            s.credentials.authority_host.as_deref(),
            Some("https://login.chinacloudapi.cn")
        );
        let d = AzureSettings::from_lookup(lookup(&[]));
        assert_eq!(d.arm_endpoint, "https://management.azure.com");
        assert!(d.subscription_id.is_none());
    }

    #[test]
    fn for_sim_defaults_a_credential_the_simulator_accepts() {
        let s = AzureSettings::for_sim_with("http://127.0.0.1:9/", lookup(&[]));
        assert_eq!(s.arm_endpoint, "http://127.0.0.1:9");
        assert_eq!(s.subscription_id.as_deref(), Some(SIM_SUBSCRIPTION));
        let c = &s.credentials;
        assert_eq!(c.authority_host.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(c.client_id.as_deref(), Some("plinth"));
        assert_eq!(c.client_secret.as_deref(), Some("plinth-sim"));
        assert!(!c.use_cli && !c.use_msi);
        let kept = AzureSettings::for_sim_with(
            "http://h:1",
            lookup(&[
                ("ARM_TENANT_ID", "t"),
                ("ARM_CLIENT_ID", "c"),
                ("ARM_CLIENT_SECRET", "s"),
                ("ARM_SUBSCRIPTION_ID", "mine"),
            ]),
        );
        assert_eq!(kept.credentials.client_id.as_deref(), Some("c"));
        assert_eq!(kept.subscription_id.as_deref(), Some("mine"));
    }

    #[test]
    fn apply_config_sets_known_keys_and_names_unknown_ones() {
        let mut s = AzureSettings::from_lookup(lookup(&[]));
        let cfg = Value::from(serde_json::json!({
            "subscription_id": "s1", "tenant_id": "t1", "client_id": "c1",
            "use_msi": true, "endpoint": "http://x/", "client_secret": null
        }));
        s.apply_config(&cfg).unwrap();
        assert_eq!(s.subscription_id.as_deref(), Some("s1"));
        assert_eq!(s.credentials.tenant_id.as_deref(), Some("t1"));
        assert!(s.credentials.use_msi);
        assert_eq!(s.arm_endpoint, "http://x");
        let bad = Value::from(serde_json::json!({"subscription": "x", "tenant_id": 3}));
        let e = s.apply_config(&bad).unwrap_err();
        assert!(
            e.contains("`subscription`") && e.contains("subscription_id"),
            "{e}"
        );
        let e = s
            .apply_config(&Value::from(serde_json::json!({"tenant_id": 3})))
            .unwrap_err();
        assert!(e.contains("must be a string"), "{e}");
        s.apply_config(&Value::from(
            serde_json::json!({"request_timeout": "2s", "connect_timeout": "500ms"}),
        ))
        .unwrap();
        assert_eq!(
            s.timeouts,
            HttpTimeouts {
                connect: Duration::from_millis(500),
                request: Duration::from_secs(2)
            }
        );
        for bad in ["soon", "0s", "2days"] {
            let e = s
                .apply_config(&Value::from(serde_json::json!({ "request_timeout": bad })))
                .unwrap_err();
            assert!(e.contains("request_timeout"), "{e}");
        }
    }
}
