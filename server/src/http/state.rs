//! What every handler shares: the engine, once it has loaded.

use std::sync::{Arc, OnceLock};

use axum::http::StatusCode;
use cairn_engine::{Collection, Engine};

use super::audit::Caller;
use super::envelope::ApiError;
use crate::backup::location::S3Settings;
use crate::catalog::Catalog;
use crate::config::{EmbeddingSettings, SidecarConfig};
use cairn_ingest::embed::ModelCache;

/// The server starts listening before the engine has loaded every
/// collection; until then data endpoints (and `/readyz`) answer 503.
#[derive(Clone)]
pub struct AppState {
    engine: Arc<OnceLock<Arc<Engine>>>,
    /// The threads searches run on (`search_threads`). Waiting searches
    /// queue there, and a busy thread takes the next without sleeping.
    searches: Arc<rayon::ThreadPool>,
    /// The metadata catalog; `None` in bare routers built by tests.
    catalog: Option<Catalog>,
    sidecars: Arc<SidecarConfig>,
    data_dir: Arc<std::path::PathBuf>,
    /// Embedding models, loaded on first use.
    models: Arc<ModelCache>,
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
            catalog: None,
            sidecars: Arc::default(),
            data_dir: Arc::new(".".into()),
            models: Arc::new(EmbeddingSettings::default().model_cache()),
        }
    }

    pub fn models(&self) -> &Arc<ModelCache> {
        &self.models
    }

    pub fn with_catalog(mut self, catalog: Catalog) -> Self {
        self.catalog = Some(catalog);
        self
    }

    pub fn with_sidecars(mut self, sidecars: SidecarConfig) -> Self {
        self.models = Arc::new(sidecars.embedding.model_cache());
        self.sidecars = Arc::new(sidecars);
        self
    }

    pub fn catalog(&self) -> Option<&Catalog> {
        self.catalog.as_ref()
    }

    pub fn sidecars(&self) -> &SidecarConfig {
        &self.sidecars
    }

    pub fn health_report(&self) -> impl std::future::Future<Output = crate::health::Report> + '_ {
        let engine = self.loaded();
        async move {
            crate::health::report(
                engine.as_deref(),
                self.catalog.as_ref(),
                &self.sidecars,
                &self.data_dir,
            )
            .await
        }
    }

    pub fn with_data_dir(mut self, dir: std::path::PathBuf) -> Self {
        self.data_dir = Arc::new(dir);
        self
    }

    pub fn s3(&self) -> &S3Settings {
        &self.sidecars.backup.s3
    }

    /// Records an action in the audit log. A catalog failure is logged,
    /// not returned: the action itself has already happened.
    pub async fn audit(
        &self,
        caller: &Caller,
        action: &str,
        collection: Option<&str>,
        detail: &str,
    ) {
        if let Some(catalog) = &self.catalog {
            if let Err(e) = catalog.audit(&caller.0, action, collection, detail).await {
                tracing::warn!(error = %e, action, "cannot write the audit log");
            }
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
