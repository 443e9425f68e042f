//! Errors of the ARM client.

use std::time::Duration;

/// An error answer from ARM (or a failed long-running operation), with ARM's own code and
/// message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message} (HTTP {status})")]
pub struct ArmError {
    /// The HTTP status of the answer (that of the poll, for a failed long-running operation).
    pub status: u16,
    /// ARM's error code (e.g. `ResourceGroupNotFound`); when ARM gave none, one made from
    /// the HTTP status or the operation's final state (`HttpStatus404`, `OperationFailed`).
    pub code: String,
    /// ARM's error message; when ARM gave none, what is known instead (the raw body,
    /// `no error body`, the operation's final state).
    pub message: String,
}

impl ArmError {
    /// Reads ARM's error shape (`{"error": {"code", "message"}}`, also the un-nested
    /// `{"code", "message"}` some services send) from a response body.
    pub fn from_body(status: u16, body: &serde_json::Value) -> ArmError {
        let e = body.get("error").unwrap_or(body);
        let text = |k: &str| e.get(k).and_then(|v| v.as_str()).map(str::to_string);
        ArmError {
            status,
            code: text("code").unwrap_or_else(|| format!("HttpStatus{status}")),
            message: text("message").unwrap_or_else(|| {
                if body.is_null() {
                    "no error body".to_string()
                } else {
                    body.to_string()
                }
            }),
        }
    }
}

/// Everything that can go wrong talking to ARM.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// ARM answered with an error (after any retries).
    #[error(transparent)]
    Arm(#[from] ArmError),
    /// The request never got a complete answer (connection refused/reset, broken body).
    #[error("{method} {url}: {message}")]
    Transport {
        /// The HTTP method of the request.
        method: String,
        /// The full URL of the request, query string included.
        url: String,
        /// The chain of causes, without the URL.
        message: String,
    },
    /// No complete answer within the connect or per-request timeout (after any retries).
    /// Names the host only: no path, no query string.
    #[error("timed out after {} talking to ARM at {host}", humantime::format_duration(*after))]
    TimedOut {
        /// The host (and port) of the endpoint that did not answer.
        host: String,
        /// The timeout that ran out: the connect or the per-request one.
        after: Duration,
    },
    /// No token could be obtained.
    #[error("{0}")]
    Credential(String),
    /// An operation (with its retries or polls) ran past its total timeout.
    #[error("{what} did not finish within {after:?}")]
    Timeout {
        /// The operation, as `METHOD resource-id`.
        what: String,
        /// The total timeout that passed ([`crate::LroPolicy::timeout`]).
        after: Duration,
    },
    /// ARM answered something this client cannot read.
    #[error("unexpected answer from {url}: {message}")]
    InvalidResponse {
        /// The URL whose answer could not be read.
        url: String,
        /// What was wrong with the answer.
        message: String,
    },
}

impl Error {
    /// ARM's error code, when ARM gave one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Arm(e) => Some(&e.code),
            _ => None,
        }
    }

    /// The HTTP status, when ARM answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Arm(e) => Some(e.status),
            _ => None,
        }
    }

    /// Whether this is a 404 (the object is gone).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }
}

impl From<Error> for plinth_provider::ProviderError {
    fn from(e: Error) -> Self {
        match &e {
            Error::Arm(a) => {
                plinth_provider::ProviderError::with_code(a.code.clone(), a.message.clone())
            }
            _ => plinth_provider::ProviderError::new(e.to_string()),
        }
    }
}

/// The result of an ARM client operation; the error defaults to [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
