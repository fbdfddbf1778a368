//! What every handler shares: the store, the registry's keys, the verifier, kept answers.

use std::sync::Arc;

use crate::domain::publish::{Actor, Operation};
use crate::http::limits::RateLimits;
use crate::publish::WriteOutcome;
use crate::publish::bindings::RegistryBindings;
use crate::store::{DynStore, Idempotency, StoreError, StoreResult};
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
    /// Each status list as last signed, with its ETag and the log size it was signed at:
    /// re-signed at most once per list and log size, dated by the log (the same bytes on every node).
    pub status_lists: moka::sync::Cache<String, (String, i64, axum::body::Bytes)>,
    /// The signed offline bundle and the log size it was built at.
    pub bundle: tokio::sync::Mutex<Option<(i64, axum::body::Bytes)>>,
    /// Request counts and latencies, for `/metrics`.
    pub metrics: crate::http::request_metrics::Metrics,
    /// Verifies presented certificates against the store.
    pub verifier: crate::verify::Verifier,
    /// What a certificate must carry to be this registry's: its status-list URLs, its holder ID key.
    pub bindings: RegistryBindings,
    pub limits: RateLimits,
    /// The least time any answer to a number and a name takes (see `certificates::lookup`).
    pub name_check_floor: std::time::Duration,
    /// The most rows one page of a filtered list reads (see `http::Scan`).
    pub scan_budget: usize,
    /// The name-matching index, with the committee version and time it was built at.
    #[allow(clippy::type_complexity)]
    pub match_index:
        tokio::sync::Mutex<Option<(Option<u64>, std::time::Instant, Arc<crate::http::match_index::MatchIndex>)>>,
    /// Whether watch-list URLs may point into private networks.
    pub webhooks_allow_private: bool,
    pub access_log: Option<crate::http::access_log::AccessLog>,
    /// Open change-feed streams (`http::changes`), at most `limits::MAX_FEED_STREAMS`.
    pub feed_streams: Arc<tokio::sync::Semaphore>,
    /// Exports streaming (`http::exports`), at most `limits::MAX_EXPORT_STREAMS`.
    pub export_streams: Arc<tokio::sync::Semaphore>,
}

/// How this service is reached and how it protects itself.
#[derive(Debug, Clone)]
pub struct Settings {
    /// e.g. `https://zhicheng.example.cn`: the ids of the credentials it signs, the status-list
    /// URLs its certificates must name.
    pub public_url: String,
    pub limits: RateLimits,
    pub name_check_floor: std::time::Duration,
    pub scan_budget: usize,
    /// Whether watch-list URLs may point into private networks (see `webhooks`).
    pub webhooks_allow_private: bool,
    /// Where each request's access line goes; none in tests and when `RUST_LOG` turns it off.
    pub access_log: Option<crate::http::access_log::AccessLog>,
}

impl Settings {
    /// The defaults for a service reached at `public_url`.
    pub fn new(public_url: &str) -> Settings {
        Settings {
            public_url: public_url.trim_end_matches('/').to_string(),
            limits: RateLimits::default(),
            name_check_floor: crate::http::limits::NAME_CHECK_FLOOR,
            scan_budget: crate::http::limits::SCAN_BUDGET,
            webhooks_allow_private: false,
            access_log: None,
        }
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(store: DynStore, registry: RegistryKey, log: LogSigner, settings: Settings) -> AppState {
        let holder_key = Arc::new(registry.holder_id_key());
        AppState(Arc::new(Shared {
            verifier: crate::verify::Verifier::new(store.clone(), Some(holder_key.clone())),
            bindings: RegistryBindings::new(&settings.public_url, holder_key),
            limits: settings.limits,
            name_check_floor: settings.name_check_floor,
            scan_budget: settings.scan_budget,
            webhooks_allow_private: settings.webhooks_allow_private,
            access_log: settings.access_log,
            store,
            registry: Arc::new(registry),
            public_url: settings.public_url.into(),
            log: Arc::new(log),
            pages: crate::http::page_cache::PageCache::new(),
            status_lists: moka::sync::Cache::new(10_000),
            bundle: tokio::sync::Mutex::new(None),
            metrics: Default::default(),
            match_index: tokio::sync::Mutex::new(None),
            feed_streams: Arc::new(tokio::sync::Semaphore::new(crate::http::limits::MAX_FEED_STREAMS)),
            export_streams: Arc::new(tokio::sync::Semaphore::new(crate::http::limits::MAX_EXPORT_STREAMS)),
        }))
    }

    /// Applies a write: the registry's own bindings first, then the store's batch.
    pub async fn execute(
        &self,
        actor: &Actor,
        ops: &[Operation],
        idempotency: Option<&Idempotency>,
    ) -> StoreResult<WriteOutcome> {
        self.bindings.check(ops).map_err(StoreError::Rejected)?;
        self.store.execute(actor, ops, idempotency, None).await
    }
}
