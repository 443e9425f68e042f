//! What to send to ARM, built without I/O.
//!
//! ```
//! use plinth_provider_azure::{ArmRequest, RequestClass};
//! let req = ArmRequest::get("/subscriptions/s/resourceGroups/rg", "2021-04-01");
//! assert_eq!(req.url("https://management.azure.com"),
//!     "https://management.azure.com/subscriptions/s/resourceGroups/rg?api-version=2021-04-01");
//! assert_eq!(req.class(), RequestClass::Read);
//! assert_eq!(req.subscription(), Some("s"));
//! ```

use reqwest::Method;
use serde_json::Value;

/// Which ARM rate-limit bucket a request draws from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestClass {
    /// `GET` and `HEAD`.
    Read,
    /// Every other method but `DELETE` (`PUT`, `PATCH`, `POST`).
    Write,
    /// `DELETE`.
    Delete,
}

impl RequestClass {
    /// The class of an HTTP method, as ARM counts it.
    pub fn of(method: &Method) -> RequestClass {
        match *method {
            Method::GET | Method::HEAD => RequestClass::Read,
            Method::DELETE => RequestClass::Delete,
            _ => RequestClass::Write,
        }
    }

    /// The suffix of ARM's `x-ms-ratelimit-remaining-subscription-*` header.
    pub fn header_suffix(self) -> &'static str {
        match self {
            RequestClass::Read => "reads",
            RequestClass::Write => "writes",
            RequestClass::Delete => "deletes",
        }
    }
}

/// One ARM request: a method, a path (resource id, optionally with an action such as
/// `/listClusterUserCredential`) or an absolute URL (poll and `nextLink` URLs), the
/// `api-version`, extra query parameters and an optional JSON body.
#[derive(Clone, Debug, PartialEq)]
pub struct ArmRequest {
    /// The HTTP method.
    pub method: Method,
    /// A path starting with `/`, or an absolute `http(s)://` URL used as is.
    pub target: String,
    /// The `api-version` query parameter; `None` sends none (e.g. a followed URL that
    /// carries its own). Not added twice when `target` already has one.
    pub api_version: Option<String>,
    /// Further query parameters, in order, unencoded (the URL encodes them).
    pub query: Vec<(String, String)>,
    /// The JSON body; `None` sends none (with `content-length: 0` for `POST`, `PUT` and
    /// `PATCH`).
    pub body: Option<Value>,
}

impl ArmRequest {
    /// A request for `target` (a path or an absolute URL).
    pub fn new(method: Method, target: impl Into<String>) -> ArmRequest {
        ArmRequest {
            method,
            target: target.into(),
            api_version: None,
            query: Vec::new(),
            body: None,
        }
    }

    /// `GET id?api-version=`.
    pub fn get(id: &str, api_version: &str) -> ArmRequest {
        ArmRequest::new(Method::GET, id).api_version(api_version)
    }

    /// `PUT id?api-version=` with `body`.
    pub fn put(id: &str, api_version: &str, body: Value) -> ArmRequest {
        ArmRequest::new(Method::PUT, id)
            .api_version(api_version)
            .body(body)
    }

    /// `PATCH id?api-version=` with `body`.
    pub fn patch(id: &str, api_version: &str, body: Value) -> ArmRequest {
        ArmRequest::new(Method::PATCH, id)
            .api_version(api_version)
            .body(body)
    }

    /// `DELETE id?api-version=`.
    pub fn delete(id: &str, api_version: &str) -> ArmRequest {
        ArmRequest::new(Method::DELETE, id).api_version(api_version)
    }

    /// `POST id/action?api-version=` (e.g. `listClusterUserCredential`), without a body.
    pub fn post(id: &str, action: &str, api_version: &str) -> ArmRequest {
        let path = format!(
            "{}/{}",
            id.trim_end_matches('/'),
            action.trim_start_matches('/')
        );
        ArmRequest::new(Method::POST, path).api_version(api_version)
    }

    /// `GET` of an absolute URL ARM handed out (a poll or `nextLink` URL), as is.
    pub fn follow(url: &str) -> ArmRequest {
        ArmRequest::new(Method::GET, url)
    }

    /// Sets the `api-version` query parameter.
    pub fn api_version(mut self, v: &str) -> ArmRequest {
        self.api_version = Some(v.to_string());
        self
    }

    /// Adds the query parameter `key=value` (unencoded; [`ArmRequest::url`] encodes it).
    pub fn query(mut self, key: &str, value: &str) -> ArmRequest {
        self.query.push((key.to_string(), value.to_string()));
        self
    }

    /// Sets the JSON body.
    pub fn body(mut self, body: Value) -> ArmRequest {
        self.body = Some(body);
        self
    }

    /// Whether `target` is an absolute URL.
    pub fn is_absolute(&self) -> bool {
        self.target.starts_with("http://") || self.target.starts_with("https://")
    }

    /// The full URL against `base` (e.g. `https://management.azure.com`).
    pub fn url(&self, base: &str) -> String {
        let mut url = if self.is_absolute() {
            self.target.clone()
        } else {
            format!(
                "{}/{}",
                base.trim_end_matches('/'),
                self.target.trim_start_matches('/')
            )
        };
        let mut params: Vec<(&str, &str)> = Vec::new();
        if let Some(v) = &self.api_version
            && !url.contains("api-version=")
        {
            params.push(("api-version", v));
        }
        params.extend(self.query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        for (i, (k, v)) in params.iter().enumerate() {
            let sep = if i == 0 && !url.contains('?') {
                '?'
            } else {
                '&'
            };
            url.push(sep);
            url.push_str(&encode(k));
            url.push('=');
            url.push_str(&encode(v));
        }
        url
    }

    /// The rate-limit bucket this request draws from.
    pub fn class(&self) -> RequestClass {
        RequestClass::of(&self.method)
    }

    /// The subscription in the path (`/subscriptions/{id}/...`), if any.
    pub fn subscription(&self) -> Option<&str> {
        let path = if self.is_absolute() {
            let rest = self.target.split_once("://").map(|x| x.1).unwrap_or("");
            rest.find('/').map(|i| &rest[i..]).unwrap_or("")
        } else {
            self.target.as_str()
        };
        let mut segs = path.split(['/', '?']).filter(|s| !s.is_empty());
        match segs.next() {
            Some(s) if s.eq_ignore_ascii_case("subscriptions") => segs.next(),
            _ => None,
        }
    }
}

/// Percent-encodes a query key or value.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~$".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_urls() {
        let r = ArmRequest::post("/subscriptions/s/x/", "listKeys", "2024-01-01");
        assert_eq!(
            r.url("http://h/"),
            "http://h/subscriptions/s/x/listKeys?api-version=2024-01-01"
        );
        let r =
            ArmRequest::get("/subscriptions/s/resources", "1").query("$filter", "name eq 'a b'");
        assert_eq!(
            r.url("http://h"),
            "http://h/subscriptions/s/resources?api-version=1&$filter=name%20eq%20%27a%20b%27"
        );
        let f = ArmRequest::follow("http://h/subscriptions/abc/ops/1?api-version=2");
        assert_eq!(
            f.url("http://other"),
            "http://h/subscriptions/abc/ops/1?api-version=2"
        );
        assert_eq!(f.subscription(), Some("abc"));
        assert_eq!(ArmRequest::get("/providers/x", "1").subscription(), None);
        assert_eq!(
            ArmRequest::delete("/subscriptions/s", "1").class(),
            RequestClass::Delete
        );
    }
}
