//! Models loaded once per process and shared: the server embeds for many
//! collections and requests, and loading a model takes about a second.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use super::{Embedder, ModelRegistry, OnnxEmbedder, OnnxOptions};
use crate::error::Result;

pub struct ModelCache {
    registry: ModelRegistry,
    options: OnnxOptions,
    loaded: Mutex<HashMap<String, Arc<OnnxEmbedder>>>,
}

impl ModelCache {
    pub fn new(registry: ModelRegistry, options: OnnxOptions) -> Self {
        ModelCache {
            registry,
            options,
            loaded: Mutex::new(HashMap::new()),
        }
    }

    pub fn registry(&self) -> &ModelRegistry {
        &self.registry
    }

    /// The model `name`, loading it on first use (callers for the same
    /// model wait for that one load).
    pub fn get(&self, name: &str) -> Result<Arc<OnnxEmbedder>> {
        let files = self.registry.resolve(name)?;
        let mut loaded = self.loaded.lock();
        if let Some(m) = loaded.get(&files.name) {
            return Ok(m.clone());
        }
        let model = Arc::new(OnnxEmbedder::load(files, &self.options)?);
        loaded.insert(model.model_name().to_string(), model.clone());
        Ok(model)
    }
}
