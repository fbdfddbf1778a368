//! A caching decorator over any [`Store`]: the reads verification and coverage repeat on every
//! request (the authority graph, issuer keys, committee records, registered certificates) come
//! from memory. Every successful write on this node clears them; other nodes follow the log
//! (`follow_log`) and clear theirs within a poll interval of a write anywhere.
//!
//! A read that raced a write must not leave the old answer behind: the reader notes the
//! generation before loading, and drops what it inserted if a write bumped it meanwhile.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use moka::future::Cache;

use super::{
    AuthorityFilter, CertificateStatus, CommitteeRowFilter, Counts, Dataset, DynStore, Event, EventFilter, Idempotency,
    Progress, SanctionRowFilter, Store, StoreResult, TokenCheck, TokenInfo, WriteOutcome,
};
use crate::domain::authority::{Authority, AuthorityGraph};
use crate::domain::certificate::IssuerKey;
use crate::domain::committee::CommitteeRecord;
use crate::domain::publish::{Actor, Operation, Role};
use crate::domain::sanction::Sanction;
use crate::domain::verification::RegisteredCertificate;

/// How many entries each cache may hold.
#[derive(Debug, Clone, Copy)]
pub struct CacheSizes {
    pub committees: u64,
    pub certificates: u64,
}

impl Default for CacheSizes {
    fn default() -> Self {
        CacheSizes { committees: 10_000, certificates: 100_000 }
    }
}

pub struct CachedStore {
    inner: DynStore,
    generation: AtomicU64,
    graph: Cache<(), Arc<AuthorityGraph>>,
    keys: Cache<(), Arc<Vec<IssuerKey>>>,
    committees: Cache<String, Option<CommitteeRecord>>,
    certificates: Cache<String, Option<RegisteredCertificate>>,
}

impl CachedStore {
    pub fn new(inner: DynStore, sizes: CacheSizes) -> CachedStore {
        CachedStore {
            inner,
            generation: AtomicU64::new(0),
            graph: Cache::new(1),
            keys: Cache::new(1),
            committees: Cache::new(sizes.committees),
            certificates: Cache::new(sizes.certificates),
        }
    }

    /// Forgets everything cached: after a write here, or a write elsewhere seen in the log.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.graph.invalidate_all();
        self.keys.invalidate_all();
        self.committees.invalidate_all();
        self.certificates.invalidate_all();
    }

    /// Keeps this node's cache in step with writes made by other nodes on the same database:
    /// polls the log size and invalidates when it moves. The first reading is taken before this
    /// returns, so a write made after it is never missed.
    pub async fn follow_log(self: Arc<Self>, every: Duration) {
        let mut seen = self.inner.log_size().await.ok();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match self.inner.log_size().await {
                    Ok(size) if Some(size) != seen => {
                        seen = Some(size);
                        self.invalidate();
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "cannot read the log size to follow other nodes' writes"),
                }
            }
        });
    }

    async fn cached<K, V, F>(&self, cache: &Cache<K, V>, key: K, load: F) -> StoreResult<V>
    where
        K: std::hash::Hash + Eq + Send + Sync + Clone + 'static,
        V: Clone + Send + Sync + 'static,
        F: std::future::Future<Output = StoreResult<V>>,
    {
        if let Some(value) = cache.get(&key).await {
            return Ok(value);
        }
        let before = self.generation.load(Ordering::SeqCst);
        let value = load.await?;
        cache.insert(key.clone(), value.clone()).await;
        if self.generation.load(Ordering::SeqCst) != before {
            cache.invalidate(&key).await;
        }
        Ok(value)
    }
}

#[async_trait]
impl Store for CachedStore {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    async fn ping(&self) -> StoreResult<()> {
        self.inner.ping().await
    }

    async fn counts(&self) -> StoreResult<Counts> {
        self.inner.counts().await
    }

    async fn import_dataset(&self, dataset: &Dataset, credential: &str) -> StoreResult<()> {
        let result = self.inner.import_dataset(dataset, credential).await;
        self.invalidate();
        result
    }

    async fn execute(
        &self,
        actor: &Actor,
        ops: &[Operation],
        idempotency: Option<&Idempotency>,
        progress: Option<Progress<'_>>,
    ) -> StoreResult<WriteOutcome> {
        let result = self.inner.execute(actor, ops, idempotency, progress).await;
        if matches!(result, Ok(WriteOutcome::Applied(_))) {
            self.invalidate();
        }
        result
    }

    async fn events_after(&self, filter: &EventFilter, after: Option<i64>, limit: u32) -> StoreResult<Vec<Event>> {
        self.inner.events_after(filter, after, limit).await
    }

    async fn create_token(
        &self,
        authority_id: &str,
        role: Role,
        label: Option<&str>,
        created_by: &str,
    ) -> StoreResult<(TokenInfo, String)> {
        self.inner.create_token(authority_id, role, label, created_by).await
    }

    async fn authenticate(&self, secret: &str) -> StoreResult<TokenCheck> {
        self.inner.authenticate(secret).await
    }

    async fn tokens(&self, authority_id: &str) -> StoreResult<Vec<TokenInfo>> {
        self.inner.tokens(authority_id).await
    }

    async fn revoke_token(&self, authority_id: &str, token_id: &str) -> StoreResult<Option<TokenInfo>> {
        self.inner.revoke_token(authority_id, token_id).await
    }

    async fn keys(&self) -> StoreResult<Vec<IssuerKey>> {
        let keys = self.cached(&self.keys, (), async { Ok(Arc::new(self.inner.keys().await?)) }).await?;
        Ok(keys.as_ref().clone())
    }

    async fn registered_certificate(&self, number: &str) -> StoreResult<Option<RegisteredCertificate>> {
        self.cached(&self.certificates, number.to_string(), self.inner.registered_certificate(number)).await
    }

    async fn certificate(&self, number: &str) -> StoreResult<Option<(RegisteredCertificate, serde_json::Value)>> {
        self.inner.certificate(number).await
    }

    async fn certificate_states(&self, status_authority: Option<&str>) -> StoreResult<Vec<CertificateStatus>> {
        self.inner.certificate_states(status_authority).await
    }

    async fn log_size(&self) -> StoreResult<i64> {
        self.inner.log_size().await
    }

    async fn log_tiles(&self, keys: &[crate::crypto::tiles::TileKey]) -> StoreResult<super::TileMap> {
        self.inner.log_tiles(keys).await
    }

    async fn latest_checkpoint(&self) -> StoreResult<Option<super::StoredCheckpoint>> {
        self.inner.latest_checkpoint().await
    }

    async fn checkpoint_at(&self, size: u64) -> StoreResult<Option<super::StoredCheckpoint>> {
        self.inner.checkpoint_at(size).await
    }

    async fn sign_checkpoint(
        &self,
        sign: &super::CheckpointSigner<'_>,
    ) -> StoreResult<Option<super::StoredCheckpoint>> {
        self.inner.sign_checkpoint(sign).await
    }

    async fn disclosures(&self, start: i64, end: i64) -> StoreResult<Vec<(i64, crate::domain::log::Disclosure)>> {
        self.inner.disclosures(start, end).await
    }

    async fn erase_disclosures(&self, seq: i64) -> StoreResult<u64> {
        self.inner.erase_disclosures(seq).await
    }

    async fn authority_graph(&self) -> StoreResult<Arc<AuthorityGraph>> {
        self.cached(&self.graph, (), self.inner.authority_graph()).await
    }

    async fn authorities_after(
        &self,
        filter: &AuthorityFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Authority>> {
        self.inner.authorities_after(filter, after, limit).await
    }

    async fn committees_after(
        &self,
        filter: &CommitteeRowFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<CommitteeRecord>> {
        self.inner.committees_after(filter, after, limit).await
    }

    async fn committee(&self, id: &str) -> StoreResult<Option<CommitteeRecord>> {
        self.cached(&self.committees, id.to_string(), self.inner.committee(id)).await
    }

    async fn sanctions_after(
        &self,
        filter: &SanctionRowFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Sanction>> {
        self.inner.sanctions_after(filter, after, limit).await
    }
}
