//! `[backend]` settings of the azure-blob backend and where its credentials come from: the
//! `AZURE_STORAGE_CONNECTION_STRING` parser and [`resolve`], which picks the endpoint, account
//! and credential from the configuration and the environment. No I/O happens here.

use std::sync::Arc;

use base64::Engine as _;

use super::http::{Credential, TokenProvider};

/// Azurite's well-known development account.
pub const DEV_ACCOUNT: &str = "devstoreaccount1";
/// Azurite's well-known development account key.
pub const DEV_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// Where the state lives: `[backend]`'s settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AzureBlobConfig {
    /// The storage account (may come from a connection string instead).
    pub account: Option<String>,
    /// The container (must exist).
    pub container: String,
    /// The snapshot blob's name; the journal, backup and lock blobs are named after it.
    pub key: String,
    /// The account's blob endpoint (default `https://<account>.blob.core.windows.net`).
    pub endpoint: Option<String>,
}

impl AzureBlobConfig {
    /// The same settings for environment `name`: its state is blob `KEYenv:NAME` (the default
    /// environment keeps `KEY`), see [`crate::environment`]. `name` must have passed
    /// [`crate::environment::check_name`].
    pub fn for_environment(&self, name: &str) -> AzureBlobConfig {
        AzureBlobConfig {
            key: crate::environment::blob_key(&self.key, name),
            ..self.clone()
        }
    }
}

/// The parts of an Azure Storage connection string the backend uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnectionString {
    /// `AccountName`.
    pub account: Option<String>,
    /// `AccountKey` (base64, as given).
    pub key: Option<String>,
    /// `SharedAccessSignature`.
    pub sas: Option<String>,
    /// `BlobEndpoint`, or the endpoint built from the account, protocol and suffix.
    pub blob_endpoint: Option<String>,
}

impl ConnectionString {
    /// Parses `Name=value;...` (including `UseDevelopmentStorage=true`).
    pub fn parse(s: &str) -> Result<ConnectionString, String> {
        let mut c = ConnectionString::default();
        let (mut protocol, mut suffix) = (None, None);
        for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part.split_once('=').ok_or_else(|| {
                format!(
                    "AZURE_STORAGE_CONNECTION_STRING: `{}` is not Name=value",
                    redact(part)
                )
            })?;
            match name.to_ascii_lowercase().as_str() {
                "accountname" => c.account = Some(value.to_string()),
                "accountkey" => c.key = Some(value.to_string()),
                "sharedaccesssignature" => c.sas = Some(value.to_string()),
                "blobendpoint" => c.blob_endpoint = Some(value.to_string()),
                "defaultendpointsprotocol" => protocol = Some(value.to_string()),
                "endpointsuffix" => suffix = Some(value.to_string()),
                "usedevelopmentstorage" if value.eq_ignore_ascii_case("true") => {
                    c.account = Some(DEV_ACCOUNT.to_string());
                    c.key = Some(DEV_KEY.to_string());
                    c.blob_endpoint = Some(format!("http://127.0.0.1:10000/{DEV_ACCOUNT}"));
                }
                _ => {}
            }
        }
        if c.blob_endpoint.is_none()
            && let Some(account) = &c.account
        {
            c.blob_endpoint = Some(format!(
                "{}://{account}.blob.{}",
                protocol.as_deref().unwrap_or("https"),
                suffix.as_deref().unwrap_or("core.windows.net")
            ));
        }
        Ok(c)
    }
}

fn redact(part: &str) -> String {
    match part.split_once('=') {
        Some((n, _)) => format!("{n}=…"),
        None => format!("{}…", part.chars().take(12).collect::<String>()),
    }
}

/// Resolves the endpoint, account and credential from `[backend]` and the environment.
///
/// Credentials, first found wins: `ARM_ACCESS_KEY` (the account key), `ARM_SAS_TOKEN`,
/// `AZURE_STORAGE_CONNECTION_STRING` (its `AccountKey` or `SharedAccessSignature`; its
/// `BlobEndpoint` is used when `endpoint` is not set — this is how Azurite is reached), and
/// otherwise `token` (Entra tokens from the Azure provider's credentials), if given.
pub fn resolve(
    config: &AzureBlobConfig,
    env: impl Fn(&str) -> Option<String>,
    token: Option<Arc<dyn TokenProvider>>,
) -> Result<(String, String, Credential), String> {
    let env = |n: &str| {
        env(n)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let conn = match env("AZURE_STORAGE_CONNECTION_STRING") {
        Some(s) => Some(ConnectionString::parse(&s)?),
        None => None,
    };
    if let (Some(conn), Some(account)) = (&conn, &config.account)
        && conn.account.as_ref().is_some_and(|a| a != account)
    {
        return Err(format!(
            "AZURE_STORAGE_CONNECTION_STRING is for account `{}`, but [backend] says account = \"{account}\"; unset one of them",
            conn.account.as_deref().unwrap_or_default()
        ));
    }
    let account = config
        .account
        .clone()
        .or_else(|| conn.as_ref().and_then(|c| c.account.clone()))
        .ok_or("[backend] needs `account` (or AZURE_STORAGE_CONNECTION_STRING with AccountName)")?;
    let endpoint = config
        .endpoint
        .clone()
        .or_else(|| conn.as_ref().and_then(|c| c.blob_endpoint.clone()))
        .unwrap_or_else(|| format!("https://{account}.blob.core.windows.net"));
    let decode_key = |k: &str, from: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(k)
            .map_err(|e| format!("{from} is not a base64 account key: {e}"))
    };
    let credential = if let Some(k) = env("ARM_ACCESS_KEY") {
        Credential::SharedKey {
            account: account.clone(),
            key: decode_key(&k, "ARM_ACCESS_KEY")?,
        }
    } else if let Some(sas) = env("ARM_SAS_TOKEN") {
        Credential::Sas(sas.trim_start_matches('?').to_string())
    } else if let Some(c) = &conn
        && let Some(k) = &c.key
    {
        Credential::SharedKey {
            account: account.clone(),
            key: decode_key(k, "the AccountKey of AZURE_STORAGE_CONNECTION_STRING")?,
        }
    } else if let Some(c) = &conn
        && let Some(sas) = &c.sas
    {
        Credential::Sas(sas.trim_start_matches('?').to_string())
    } else if let Some(t) = token {
        Credential::Token(t)
    } else {
        return Err("no credentials for the azure-blob backend: set ARM_ACCESS_KEY, ARM_SAS_TOKEN or AZURE_STORAGE_CONNECTION_STRING, or the Azure provider's credentials (ARM_TENANT_ID/ARM_CLIENT_ID/..., managed identity, or `az login`)".to_string());
    };
    Ok((endpoint, account, credential))
}
