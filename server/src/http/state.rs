//! What every handler shares: the engine, once it has loaded.

use std::sync::{Arc, OnceLock};

use axum::http::StatusCode;
use cairn_engine::{Collection, Engine};

use super::envelope::ApiError;

/// The server starts listening before the engine has loaded every
/// collection; until then data endpoints (and `/readyz`) answer 503.
#[derive(Clone)]
pub struct AppState {
    engine: Arc<OnceLock<Arc<Engine>>>,
    /// The threads searches run on (`search_threads`). Waiting searches
    /// queue there, and a busy thread takes the next without sleeping.
    searches: Arc<rayon::ThreadPool>,
}

impl Default for AppState {
    fn default() -> Self {
        AppState::new(0)
    }
}

impl AppState {
    /// `search_threads` 0: one per CPU.
    pub fn new(search_threads: usize) -> Self {
        let searches = rayon::ThreadPoolBuilder::new()
            .num_threads(search_threads)
            .thread_name(|i| format!("cairn-search-{i}"))
            .build()
            // Only fails if the OS refuses to start a thread at all.
            .expect("cannot start the search threads");
        AppState {
            engine: Arc::default(),
            searches: Arc::new(searches),
        }
    }

    pub fn searches(&self) -> &rayon::ThreadPool {
        &self.searches
    }

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
