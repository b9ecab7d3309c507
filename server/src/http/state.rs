//! What every handler shares: the engine, once it has loaded.

use std::sync::{Arc, OnceLock};

use axum::http::StatusCode;
use cairn_engine::{Collection, Engine};

use super::envelope::ApiError;

/// The server starts listening before the engine has loaded every
/// collection; until then data endpoints (and `/readyz`) answer 503.
#[derive(Clone, Default)]
pub struct AppState {
    engine: Arc<OnceLock<Arc<Engine>>>,
}

impl AppState {
    pub fn set_engine(&self, engine: Arc<Engine>) {
        let _ = self.engine.set(engine);
    }

    pub fn loaded(&self) -> Option<Arc<Engine>> {
        self.engine.get().cloned()
    }

    pub fn engine(&self) -> Result<Arc<Engine>, ApiError> {
        self.loaded().ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Cairn is still loading its collections; retry shortly",
            )
        })
    }

    pub fn collection(&self, name: &str) -> Result<Arc<Collection>, ApiError> {
        Ok(self.engine()?.collection(name)?)
    }
}
