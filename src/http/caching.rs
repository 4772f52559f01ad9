//! HTTP caching of GraphQL answers (SPEC §10): a query sent with GET answers
//! `Cache-Control: private, no-cache` and a strong `ETag` of its body, and `304 Not
//! Modified` when the request's `If-None-Match` names that tag, so a browser revalidates
//! the profile it holds instead of downloading it again. Every other answer (a mutation,
//! a POST, an error before execution) is `no-store`. Nothing is ever `public`: profiles
//! are personal data, and a shared cache must not keep them.
//!
//! The query runs either way: the tag is of the body it gives now, so a changed profile
//! changes the tag, and the same body for another caller is the same answer.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use sha2::{Digest, Sha256};

/// A query over GET: the browser may keep its answer, and must ask again before using it.
const REVALIDATE: HeaderValue = HeaderValue::from_static("private, no-cache");
/// Anything else.
const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");
/// The body depends on who asks and what they accept.
const VARY: HeaderValue = HeaderValue::from_static("Accept, Authorization");

/// Marks `response` as never to be stored.
pub(crate) fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, NO_STORE);
    response
}

/// The strong entity tag of `body`: its SHA-256, quoted.
pub(crate) fn tag(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(Sha256::digest(body)))
}

/// Whether `If-None-Match` names `etag` (or is `*`). GET compares weakly (RFC 9110
/// §13.1.2), so a `W/` prefix a proxy added still matches.
fn matches(request: &HeaderMap, etag: &str) -> bool {
    request.get_all(header::IF_NONE_MATCH).iter().filter_map(|value| value.to_str().ok()).any(|value| {
        value
            .split(',')
            .map(str::trim)
            .any(|candidate| candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag)
    })
}

/// The answer to a query sent with GET, whose body's tag is `etag`: with that tag and
/// `private, no-cache`, or `304` without a body when the request already holds it.
pub(crate) fn revalidated(request: &HeaderMap, mut response: Response, etag: String) -> Response {
    let not_modified = response.status() == StatusCode::OK && matches(request, &etag);
    if not_modified {
        let headers = std::mem::take(response.headers_mut());
        response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        *response.headers_mut() = headers;
        response.headers_mut().remove(header::CONTENT_LENGTH);
    }
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, REVALIDATE);
    headers.insert(header::VARY, VARY);
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_lists_and_weak_tags_match() {
        let etag = tag(b"{}");
        let mut headers = HeaderMap::new();
        assert!(!matches(&headers, &etag));
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(&format!("\"other\", W/{etag}")).expect("a header value"),
        );
        assert!(matches(&headers, &etag));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"other\""));
        assert!(!matches(&headers, &etag));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(matches(&headers, &etag));
    }
}
