//! API keys. A full key may do anything; a read-only key may GET and run the
//! read-only POSTs (search, query, scroll, count, retrieve). Keys arrive in
//! the `api-key` header or as `Authorization: Bearer <key>`, and are compared
//! in constant time. No key → 401, a wrong key → 401, a read-only key on a
//! write → 403. Health endpoints stay open when so configured.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use subtle::ConstantTimeEq;

use super::audit::Caller;
use super::envelope::error_response;

#[derive(Clone, Default)]
pub struct Keys {
    pub full: Option<String>,
    pub read_only: Option<String>,
    pub open_health: bool,
}

const HEALTH: [&str; 6] = [
    "/",
    "/healthz",
    "/livez",
    "/readyz",
    "/metrics",
    "/health/report",
];
/// POST endpoints that only read (the last path segments).
const READ_POSTS: [&str; 7] = [
    "/points/search",
    "/points/search/batch",
    "/points/query",
    "/points/query/batch",
    "/points/scroll",
    "/points/count",
    "/points",
];

fn presented(headers: &HeaderMap) -> Option<&str> {
    if let Some(k) = headers.get("api-key").and_then(|v| v.to_str().ok()) {
        return Some(k);
    }
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

fn same(a: &str, b: &Option<String>) -> bool {
    b.as_deref()
        .is_some_and(|b| bool::from(a.as_bytes().ct_eq(b.as_bytes())))
}

fn is_read(method: &Method, path: &str) -> bool {
    *method == Method::GET
        || *method == Method::HEAD
        || (*method == Method::POST
            && path.starts_with("/collections/")
            && READ_POSTS.iter().any(|s| path.ends_with(s)))
}

pub async fn check(State(keys): State<Arc<Keys>>, mut req: Request, next: Next) -> Response {
    if keys.full.is_none() && keys.read_only.is_none() {
        return next.run(req).await;
    }
    let path = req.uri().path();
    if keys.open_health && HEALTH.contains(&path) {
        return next.run(req).await;
    }
    let Some(key) = presented(req.headers()).map(str::to_string) else {
        return error_response(
            StatusCode::UNAUTHORIZED,
            "missing API key: send it in the `api-key` header or as `Authorization: Bearer <key>`",
        );
    };
    if same(&key, &keys.full) {
        req.extensions_mut().insert(Caller::keyed("full", &key));
        return next.run(req).await;
    }
    if same(&key, &keys.read_only) {
        if is_read(req.method(), req.uri().path()) {
            req.extensions_mut()
                .insert(Caller::keyed("read_only", &key));
            return next.run(req).await;
        }
        return error_response(
            StatusCode::FORBIDDEN,
            "this API key is read-only; writes need the full API key",
        );
    }
    error_response(StatusCode::UNAUTHORIZED, "invalid API key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_covers_reads_and_nothing_else() {
        assert!(is_read(&Method::GET, "/collections/c"));
        assert!(is_read(&Method::POST, "/collections/c/points/query"));
        assert!(is_read(&Method::POST, "/collections/c/points"));
        assert!(!is_read(&Method::PUT, "/collections/c/points"));
        assert!(!is_read(&Method::POST, "/collections/c/points/delete"));
        assert!(!is_read(&Method::POST, "/collections/c/points/payload"));
        assert!(!is_read(&Method::DELETE, "/collections/c"));
    }
}
