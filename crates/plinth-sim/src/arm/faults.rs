//! Injected faults (`--faults RATE`): a deterministic stream from the seed decides which ARM
//! requests answer 429 (with or without `Retry-After`), 500, 503, or drop the connection
//! mid-response.

use axum::body::{Body, Bytes, HttpBody};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;

use super::answer::error;

/// A body that fails at once, so the connection is dropped mid-response.
struct Broken;

impl HttpBody for Broken {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(Some(Err(std::io::Error::other(
            "injected fault: connection dropped",
        ))))
    }
}

/// splitmix64: a deterministic stream of numbers from the seed.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The injected fault for ARM request number `n`, if any.
pub(super) fn fault(seed: u64, rate: f64, n: u64) -> Option<Response> {
    if rate <= 0.0 {
        return None;
    }
    let r = mix(seed ^ mix(n));
    if ((r >> 11) as f64 / (1u64 << 53) as f64) >= rate {
        return None;
    }
    Some(match mix(r) % 5 {
        0 => {
            let mut resp = error(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "The request is being throttled (injected fault).",
            );
            resp.headers_mut()
                .insert("retry-after", HeaderValue::from_static("1"));
            resp
        }
        1 => error(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "The request is being throttled (injected fault).",
        ),
        2 => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "Encountered internal server error (injected fault).",
        ),
        3 => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "The service is temporarily unavailable (injected fault).",
        ),
        _ => Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .body(Body::new(Broken))
            .unwrap_or_default(),
    })
}
