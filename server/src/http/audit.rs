//! Who made a request, for the audit log: the id of the key it presented
//! (`full:` or `read_only:` plus the first 8 hex digits of the key's
//! SHA-256), or `anonymous` when the API is open. Never the key itself.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};

#[derive(Clone, Debug)]
pub struct Caller(pub String);

impl Caller {
    pub fn keyed(kind: &str, key: &str) -> Caller {
        let digest = hex::encode(Sha256::digest(key.as_bytes()));
        Caller(format!("{kind}:{}", &digest[..8]))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Caller>()
            .cloned()
            .unwrap_or_else(|| Caller("anonymous".to_string())))
    }
}
