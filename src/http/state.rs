//! What every handler shares: the store, the registry's keys, the verifier, kept answers.

use std::sync::Arc;

use crate::store::DynStore;
use crate::transparency::LogSigner;
use crate::verify::registry_key::RegistryKey;

/// What every handler shares. axum's `State` clones it for each request, so it is one `Arc`
/// (cloning the fields one by one was a percent of a cached read).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub store: DynStore,
    /// Signs status lists and bundles.
    pub registry: Arc<RegistryKey>,
    /// How clients reach this service, e.g. `https://zhicheng.example.cn`; used in the ids of
    /// the credentials it signs.
    pub public_url: Arc<str>,
    /// Signs the transparency log's checkpoints.
    pub log: Arc<LogSigner>,
    /// Rendered committee pages and coverage answers, valid while the store hands out the same record.
    pub pages: crate::http::page_cache::PageCache,
    /// Each status list as last signed, with its ETag: re-signed only when its content changes.
    pub status_lists: moka::sync::Cache<String, (String, axum::body::Bytes)>,
    /// The signed offline bundle and the log size it was built at.
    pub bundle: tokio::sync::Mutex<Option<(i64, axum::body::Bytes)>>,
    /// Verifies presented certificates against the store.
    pub verifier: crate::verify::Verifier,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(store: DynStore, registry: RegistryKey, log: LogSigner, public_url: &str) -> AppState {
        AppState(Arc::new(Shared {
            verifier: crate::verify::Verifier::new(store.clone()),
            store,
            registry: Arc::new(registry),
            public_url: public_url.trim_end_matches('/').into(),
            log: Arc::new(log),
            pages: crate::http::page_cache::PageCache::new(),
            status_lists: moka::sync::Cache::new(10_000),
            bundle: tokio::sync::Mutex::new(None),
        }))
    }
}
