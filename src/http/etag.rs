//! Strong ETags and `If-None-Match` on the public GET answers of the API: a client or a CDN
//! revalidates and gets `304 Not Modified` without the body. `Cache-Control: public, no-cache`
//! lets any cache keep an answer but never serve it without asking: a revocation or a sanction
//! must not wait out a max-age.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// Answers larger than this are sent as they are (none of the API's GET answers comes near).
const MAX_TAGGED_BYTES: u64 = 16 * 1024 * 1024;

/// Tags the answers of `GET /api/v1/…` that are whole in memory (not streams) and have no ETag
/// of their own, and answers a matching `If-None-Match` with 304 (for handler-set tags too).
pub async fn revalidate(request: Request, next: Next) -> Response {
    let tagged =
        matches!(*request.method(), Method::GET | Method::HEAD) && request.uri().path().starts_with("/api/v1/");
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    let response = next.run(request).await;
    if !tagged || response.status() != StatusCode::OK {
        return response;
    }
    // A handler that knows its tag (kept answers, status lists, the bundle) set it: only the
    // question whether the client holds it is left.
    if let Some(etag) = response.headers().get(header::ETAG) {
        let held = if_none_match.is_some_and(|v| etag.to_str().is_ok_and(|etag| matches(&v, etag)));
        let (mut parts, body) = response.into_parts();
        parts.headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("public, no-cache"));
        return if held { not_modified(parts) } else { Response::from_parts(parts, body) };
    }
    let whole = axum::body::HttpBody::size_hint(response.body()).exact().is_some_and(|n| n <= MAX_TAGGED_BYTES);
    if !whole {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_TAGGED_BYTES as usize).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let value = tag(&bytes);
    let etag = value.to_str().expect("hex").to_string();
    parts.headers.insert(header::ETAG, value);
    parts.headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("public, no-cache"));
    if if_none_match.is_some_and(|v| matches(&v, &etag)) {
        return not_modified(parts);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The strong ETag of a body: the first 16 bytes of its SHA-256, in hex.
pub fn tag(body: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(body);
    HeaderValue::from_str(&format!("\"{}\"", hex::encode(&digest[..16]))).expect("hex is a header value")
}

/// Whether an `If-None-Match` value names `etag` (weak comparison, as RFC 9110 asks for it).
fn matches(value: &HeaderValue, etag: &str) -> bool {
    let Ok(value) = value.to_str() else { return false };
    value.split(',').map(str::trim).any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

/// The answer's headers (its ETag, its caching) without its body.
fn not_modified(mut parts: axum::http::response::Parts) -> Response {
    parts.status = StatusCode::NOT_MODIFIED;
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    Response::from_parts(parts, Body::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_lists_and_weak_tags_match() {
        let etag = "\"abc\"";
        assert!(matches(&HeaderValue::from_static("\"x\", \"abc\""), etag));
        assert!(matches(&HeaderValue::from_static("W/\"abc\""), etag));
        assert!(matches(&HeaderValue::from_static("*"), etag));
        assert!(!matches(&HeaderValue::from_static("\"abd\""), etag));
    }
}
