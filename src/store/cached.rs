//! A caching decorator over any [`Store`]: the reads verification, committee pages and
//! coverage repeat on every request (the authority graph, issuer keys, committee records,
//! registered certificates, status-list states, the sessions a certificate rests on, the latest
//! checkpoint) come from memory.
//!
//! Invalidation follows the log, precisely: every event names the entity it changed, and only
//! what that entity feeds is dropped (a withdrawal drops its committee's record, a revocation
//! its certificate and the status lists, a key change the keys). Writes made through this node
//! are applied before the write returns, so the next read here is fresh; writes by other nodes
//! sharing the database are read from the log by `follow_log` within a poll interval.
//!
//! A read that raced a write must not leave the old answer behind: the reader notes the
//! generation before loading, and drops what it inserted if an invalidation happened meanwhile.

use std::sync::Arc;
use std::sync::PoisonError;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use moka::sync::Cache;

use super::prelude::*;
use super::{
    Applied, AuthorityFilter, CertificateStatus, CommitteeRowFilter, Counts, Dataset, DynStore, Event, EventFilter,
    Idempotency, OperationSource, Progress, SanctionRowFilter, StoreResult, StoreStats, StoredCheckpoint, TokenCheck,
    TokenInfo, WriteOutcome,
};
use crate::domain::authority::{Authority, AuthorityGraph};
use crate::domain::certificate::IssuerKey;
use crate::domain::committee::CommitteeRecord;
use crate::domain::publish::{Actor, Role};
use crate::domain::sanction::Sanction;
use crate::domain::session::EvaluationSession;
use crate::domain::verification::RegisteredCertificate;
use crate::publish::event::Touched;

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

/// Past this many new events at once (a bulk import elsewhere), forgetting everything is
/// cheaper than reading them all.
const PRECISE_UP_TO: i64 = 10_000;

pub struct CachedStore {
    inner: DynStore,
    generation: AtomicU64,
    /// Moves on after every drop of a committee record or of the graph (`committees_version`).
    committees_version: AtomicU64,
    /// The log position whose events this cache has applied (-1: not following).
    position: AtomicI64,
    graph: Slot<Arc<AuthorityGraph>>,
    keys: Slot<Arc<Vec<IssuerKey>>>,
    committees: Cache<String, Option<Arc<CommitteeRecord>>>,
    certificates: Cache<String, Option<RegisteredCertificate>>,
    /// Certificate states per status authority (what its status lists are built from).
    states: Cache<String, Arc<Vec<CertificateStatus>>>,
    /// What verification reads of sessions: one by id, or one committee's on one day.
    sessions: Cache<SessionRead, Arc<Vec<EvaluationSession>>>,
    /// Checkpoints are signed by whichever node sequences: kept one second.
    checkpoint: Slot<Option<StoredCheckpoint>>,
    /// Hits and misses per cache, in `CACHE_NAMES` order.
    counters: [(AtomicU64, AtomicU64); CACHE_NAMES.len()],
}

/// The caches `/metrics` counts hits and misses of.
const CACHE_NAMES: [&str; 7] = ["graph", "committees", "keys", "certificates", "states", "sessions", "checkpoint"];

/// A session read verification repeats: by id, or a committee's sessions on one day (at most
/// `limit`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum SessionRead {
    Id(String),
    Day { committee_id: String, day: crate::domain::Date, limit: u32 },
}

fn cache_index(name: &str) -> usize {
    CACHE_NAMES.iter().position(|n| *n == name).expect("a named cache")
}

/// Where `CachedStore::cached` keeps an answer: a moka cache, or a `Slot`.
trait Holder<K, V> {
    async fn get(&self, key: &K) -> Option<V>;
    async fn insert(&self, key: K, value: V);
    async fn invalidate(&self, key: &K);
}

impl<K, V> Holder<K, V> for Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    async fn get(&self, key: &K) -> Option<V> {
        Cache::get(self, key)
    }

    async fn insert(&self, key: K, value: V) {
        Cache::insert(self, key, value)
    }

    async fn invalidate(&self, key: &K) {
        Cache::invalidate(self, key)
    }
}

/// One cached value (the graph, the key list, the checkpoint), optionally for a limited time.
/// A lock and a clone: a moka cache's per-read bookkeeping (clock reads, access recording) was
/// most of what a cached coverage answer cost beyond HTTP, and a single value needs none of it.
struct Slot<V> {
    value: std::sync::RwLock<Option<(V, Instant)>>,
    ttl: Option<Duration>,
}

impl<V: Clone> Slot<V> {
    fn new(ttl: Option<Duration>) -> Slot<V> {
        Slot { value: std::sync::RwLock::new(None), ttl }
    }

    fn clear(&self) {
        *self.value.write().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

impl<V: Clone> Holder<(), V> for Slot<V> {
    async fn get(&self, _: &()) -> Option<V> {
        let held = self.value.read().unwrap_or_else(PoisonError::into_inner);
        let (value, at) = held.as_ref()?;
        self.ttl.is_none_or(|ttl| at.elapsed() < ttl).then(|| value.clone())
    }

    async fn insert(&self, _: (), value: V) {
        *self.value.write().unwrap_or_else(PoisonError::into_inner) = Some((value, Instant::now()));
    }

    async fn invalidate(&self, _: &()) {
        self.clear();
    }
}

impl CachedStore {
    pub fn new(inner: DynStore, sizes: CacheSizes) -> CachedStore {
        CachedStore {
            inner,
            generation: AtomicU64::new(0),
            committees_version: AtomicU64::new(0),
            position: AtomicI64::new(-1),
            graph: Slot::new(None),
            keys: Slot::new(None),
            committees: Cache::new(sizes.committees),
            certificates: Cache::new(sizes.certificates),
            states: Cache::new(1_000),
            sessions: Cache::new(sizes.committees),
            checkpoint: Slot::new(Some(Duration::from_secs(1))),
            counters: Default::default(),
        }
    }

    /// Forgets everything cached.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.graph.clear();
        self.keys.clear();
        self.committees.invalidate_all();
        self.certificates.invalidate_all();
        self.states.invalidate_all();
        self.sessions.invalidate_all();
        self.checkpoint.clear();
        self.committees_version.fetch_add(1, Ordering::SeqCst);
    }

    /// Drops what `events` (read from the log) made stale, and nothing else.
    pub async fn apply(&self, events: &[Event]) {
        let touched: Vec<Touched> =
            events.iter().map(|e| Touched::of(&e.entity_type, &e.entity_id, &e.payload)).collect();
        self.forget(&touched).await;
    }

    /// Drops what each write touched, and nothing else.
    async fn forget(&self, touched: &[Touched]) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        for t in touched {
            match t {
                Touched::Everything => return self.invalidate(),
                Touched::Keys => self.keys.clear(),
                Touched::Committee(id) => self.drop_committee(Some(id)),
                Touched::PartOfCommittee { entity_type, id } => {
                    self.drop_committee(self.committee_of(entity_type, id).await.as_deref())
                }
                Touched::Nothing => {}
                Touched::Sessions => self.sessions.invalidate_all(),
                Touched::Certificate(number) => {
                    self.certificates.invalidate(number);
                    self.states.invalidate_all();
                }
            }
        }
    }

    /// Drops one committee's record (all of them for `None`); the version moves on after.
    fn drop_committee(&self, id: Option<&str>) {
        match id {
            Some(id) => self.committees.invalidate(id),
            None => self.committees.invalidate_all(),
        }
        self.committees_version.fetch_add(1, Ordering::SeqCst);
    }

    /// The committee an authorization or a committee sanction belongs to, as its first event names it.
    async fn committee_of(&self, entity_type: &str, id: &str) -> Option<String> {
        let filter =
            EventFilter { entity_type: Some(entity_type.into()), entity_id: Some(id.into()), ..Default::default() };
        let first = self.inner.events_after(&filter, None, 1).await.ok()?.pop()?;
        match Touched::of(&first.entity_type, &first.entity_id, &first.payload) {
            Touched::Committee(c) => Some(c),
            _ => None,
        }
    }

    /// Applies a write made through this node: what its operations touched is dropped, and
    /// the log position moves past its events (`first..first + count`).
    async fn after_write(&self, applied: &[Applied]) {
        let Some(first) = applied.first().map(|a| a.event_seq) else { return };
        let touched: Vec<Touched> = applied.iter().map(|a| a.touched.clone()).collect();
        self.forget(&touched).await;
        let end = first + applied.len() as i64;
        let _ = self.position.compare_exchange(first, end, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// Reads the events other nodes appended since the last call and applies them.
    pub async fn catch_up(&self) -> StoreResult<()> {
        let size = self.inner.log_size().await?;
        let seen = self.position.load(Ordering::SeqCst);
        if seen < 0 || size - seen > PRECISE_UP_TO {
            self.invalidate();
        } else if size > seen {
            let events = self.inner.events_after(&EventFilter::default(), Some(seen - 1), (size - seen) as u32).await?;
            self.apply(&events).await;
        }
        self.position.fetch_max(size, Ordering::SeqCst);
        Ok(())
    }

    /// Keeps this node's cache in step with writes made by other nodes on the same database:
    /// reads the new events every `every`. The first reading is taken before this returns, so
    /// a write made after it is never missed.
    pub async fn follow_log(self: Arc<Self>, every: Duration) {
        if let Ok(size) = self.inner.log_size().await {
            self.position.store(size, Ordering::SeqCst);
        }
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if let Err(e) = self.catch_up().await {
                    tracing::warn!(error = %e, "cannot read the log to follow other nodes' writes");
                }
            }
        });
    }

    /// The cached value, or `load()`'s. `load` makes its future only on a miss: a boxed store
    /// future is large, and building one per hit was a measurable copy (docs/PERFORMANCE.md).
    async fn cached<K, V, F>(
        &self,
        name: &'static str,
        cache: &impl Holder<K, V>,
        key: K,
        load: impl FnOnce() -> F,
    ) -> StoreResult<V>
    where
        K: Clone,
        V: Clone,
        F: std::future::Future<Output = StoreResult<V>>,
    {
        let (hits, misses) = &self.counters[cache_index(name)];
        if let Some(value) = cache.get(&key).await {
            hits.fetch_add(1, Ordering::Relaxed);
            return Ok(value);
        }
        misses.fetch_add(1, Ordering::Relaxed);
        let before = self.generation.load(Ordering::SeqCst);
        let value = load().await?;
        cache.insert(key.clone(), value.clone()).await;
        if self.generation.load(Ordering::SeqCst) != before {
            cache.invalidate(&key).await;
            // A reader may have been handed the stale value meanwhile.
            self.committees_version.fetch_add(1, Ordering::SeqCst);
        }
        Ok(value)
    }
}

#[async_trait]
impl RegistryReads for CachedStore {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    async fn ping(&self) -> StoreResult<()> {
        self.inner.ping().await
    }

    fn stats(&self) -> StoreStats {
        let caches = CACHE_NAMES
            .iter()
            .zip(&self.counters)
            .map(|(name, (hits, misses))| (*name, hits.load(Ordering::Relaxed), misses.load(Ordering::Relaxed)))
            .collect();
        StoreStats { caches, ..self.inner.stats() }
    }

    async fn counts(&self) -> StoreResult<Counts> {
        self.inner.counts().await
    }

    async fn authority_graph(&self) -> StoreResult<Arc<AuthorityGraph>> {
        self.cached("graph", &self.graph, (), || self.inner.authority_graph()).await
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

    fn committees_version(&self) -> Option<u64> {
        Some(self.committees_version.load(Ordering::SeqCst))
    }

    async fn committee(&self, id: &str) -> StoreResult<Option<Arc<CommitteeRecord>>> {
        self.cached("committees", &self.committees, id.to_string(), || self.inner.committee(id)).await
    }

    async fn sanctions_after(
        &self,
        filter: &SanctionRowFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Sanction>> {
        self.inner.sanctions_after(filter, after, limit).await
    }

    async fn sessions_after(
        &self,
        filter: &super::SessionFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<EvaluationSession>> {
        // Verification's read (a committee's sessions on one day) is cached; lists are not.
        let day = match (filter, after) {
            (
                super::SessionFilter { committee_id: Some(c), meets_from: Some(from), meets_until: Some(until) },
                None,
            ) if from == until => SessionRead::Day { committee_id: c.clone(), day: *from, limit },
            _ => return self.inner.sessions_after(filter, after, limit).await,
        };
        let found = self
            .cached("sessions", &self.sessions, day, || async {
                Ok(Arc::new(self.inner.sessions_after(filter, after, limit).await?))
            })
            .await?;
        Ok(found.as_ref().clone())
    }

    async fn session(&self, id: &str) -> StoreResult<Option<EvaluationSession>> {
        let found = self
            .cached("sessions", &self.sessions, SessionRead::Id(id.to_string()), || async {
                Ok(Arc::new(self.inner.session(id).await?.into_iter().collect()))
            })
            .await?;
        Ok(found.first().cloned())
    }

    async fn visits(&self, session_id: &str) -> StoreResult<Vec<crate::domain::supervisor::Visit>> {
        self.inner.visits(session_id).await
    }

    async fn draw_plan(
        &self,
        id: &str,
    ) -> StoreResult<Option<(crate::domain::draw::DrawPlan, Option<super::DrawSeed>)>> {
        self.inner.draw_plan(id).await
    }

    async fn draw_plans_after(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<(crate::domain::draw::DrawPlan, Option<super::DrawSeed>)>> {
        self.inner.draw_plans_after(after, limit).await
    }

    async fn inspections_after(
        &self,
        filter: &super::InspectionFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<crate::domain::draw::Inspection>> {
        self.inner.inspections_after(filter, after, limit).await
    }

    async fn notices_after(
        &self,
        filter: &super::NoticeFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<crate::domain::notice::Notice>> {
        self.inner.notices_after(filter, after, limit).await
    }

    async fn last_inspected(
        &self,
        committee_ids: &std::collections::HashSet<String>,
    ) -> StoreResult<Vec<(String, crate::domain::Date)>> {
        self.inner.last_inspected(committee_ids).await
    }
}

#[async_trait]
impl Publishing for CachedStore {
    async fn import_dataset(&self, dataset: &Dataset, credential: &str) -> StoreResult<()> {
        let result = self.inner.import_dataset(dataset, credential).await;
        self.invalidate();
        result
    }

    async fn execute_from(
        &self,
        actor: &Actor,
        ops: &mut dyn OperationSource,
        idempotency: Option<&Idempotency>,
        progress: Option<Progress<'_>>,
    ) -> StoreResult<WriteOutcome> {
        let result = self.inner.execute_from(actor, ops, idempotency, progress).await;
        if let Ok(WriteOutcome::Applied(applied)) = &result {
            self.after_write(applied).await;
        }
        result
    }

    async fn events_after(&self, filter: &EventFilter, after: Option<i64>, limit: u32) -> StoreResult<Vec<Event>> {
        self.inner.events_after(filter, after, limit).await
    }
}

#[async_trait]
impl Tokens for CachedStore {
    async fn create_token(
        &self,
        authority_id: &str,
        role: Role,
        committee_id: Option<&str>,
        label: Option<&str>,
        created_by: &str,
        idempotency: Option<(&str, &Idempotency)>,
    ) -> StoreResult<(TokenInfo, String)> {
        self.inner.create_token(authority_id, role, committee_id, label, created_by, idempotency).await
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
}

#[async_trait]
impl CertificateReads for CachedStore {
    async fn keys(&self) -> StoreResult<Arc<Vec<IssuerKey>>> {
        self.cached("keys", &self.keys, (), || self.inner.keys()).await
    }

    async fn registered_certificate(&self, number: &str) -> StoreResult<Option<RegisteredCertificate>> {
        self.cached("certificates", &self.certificates, number.to_string(), || {
            self.inner.registered_certificate(number)
        })
        .await
    }

    async fn registered_supervisor(&self, number: &str) -> StoreResult<Option<RegisteredCertificate>> {
        self.inner.registered_supervisor(number).await
    }

    async fn certificate(&self, number: &str) -> StoreResult<Option<(RegisteredCertificate, serde_json::Value)>> {
        self.inner.certificate(number).await
    }

    async fn certificate_states(&self, status_authority: Option<&str>) -> StoreResult<Vec<CertificateStatus>> {
        // One authority's states (its status lists) are cached; all of them (the bundle) are not.
        let Some(authority) = status_authority else { return self.inner.certificate_states(None).await };
        let load = || async { Ok(Arc::new(self.inner.certificate_states(Some(authority)).await?)) };
        Ok(self.cached("states", &self.states, authority.to_string(), load).await?.as_ref().clone())
    }
}

#[async_trait]
impl LogStore for CachedStore {
    async fn log_size(&self) -> StoreResult<i64> {
        match self.position.load(Ordering::SeqCst) {
            p if p >= 0 => Ok(p),
            _ => self.inner.log_size().await,
        }
    }

    async fn log_tiles(&self, keys: &[crate::tlog::tiles::TileKey]) -> StoreResult<super::TileMap> {
        self.inner.log_tiles(keys).await
    }

    async fn latest_checkpoint(&self) -> StoreResult<Option<StoredCheckpoint>> {
        self.cached("checkpoint", &self.checkpoint, (), || self.inner.latest_checkpoint()).await
    }

    async fn checkpoint_at(&self, size: u64) -> StoreResult<Option<super::StoredCheckpoint>> {
        self.inner.checkpoint_at(size).await
    }

    async fn sign_checkpoint(&self, sign: &super::CheckpointSigner<'_>) -> StoreResult<Option<StoredCheckpoint>> {
        let signed = self.inner.sign_checkpoint(sign).await?;
        if signed.is_some() {
            self.checkpoint.clear();
        }
        Ok(signed)
    }

    async fn disclosures(&self, start: i64, end: i64) -> StoreResult<Vec<(i64, crate::domain::log::Disclosure)>> {
        self.inner.disclosures(start, end).await
    }

    async fn erase_disclosures(&self, seq: i64) -> StoreResult<u64> {
        self.inner.erase_disclosures(seq).await
    }
}

/// Exports read the database directly: a snapshot must be one consistent read, not a mix of
/// cached and fresh records.
#[async_trait]
impl super::Exports for CachedStore {
    async fn export(
        &self,
        tables: &[super::Table],
        out: tokio::sync::mpsc::Sender<super::Exported>,
    ) -> StoreResult<()> {
        self.inner.export(tables, out).await
    }

    async fn log_record(&self, event: crate::publish::batch::PendingEvent) -> StoreResult<i64> {
        self.inner.log_record(event).await
    }

    async fn copy_database(&self, path: &str) -> StoreResult<bool> {
        self.inner.copy_database(path).await
    }
}

/// Watch-lists and notifications are read and written by their owners and the dispatcher only:
/// nothing to cache.
#[async_trait]
impl super::Watches for CachedStore {
    async fn set_watch_endpoint(&self, token_id: &str, url: Option<&str>) -> StoreResult<()> {
        self.inner.set_watch_endpoint(token_id, url).await
    }

    async fn watch_endpoint(&self, token_id: &str) -> StoreResult<Option<String>> {
        self.inner.watch_endpoint(token_id).await
    }

    async fn change_watch_list(
        &self,
        token_id: &str,
        add: &[super::WatchItem],
        remove: &[super::WatchItem],
        max: usize,
    ) -> StoreResult<usize> {
        self.inner.change_watch_list(token_id, add, remove, max).await
    }

    async fn watch_list(&self, token_id: &str) -> StoreResult<Vec<super::WatchItem>> {
        self.inner.watch_list(token_id).await
    }

    async fn match_watches(&self, limit: u32, body: &super::NotificationBody) -> StoreResult<usize> {
        self.inner.match_watches(limit, body).await
    }

    async fn due_deliveries(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        limit: i64,
    ) -> StoreResult<Vec<super::DueDelivery>> {
        self.inner.due_deliveries(now, limit).await
    }

    async fn record_attempt(&self, id: &str, attempt: &super::Attempt) -> StoreResult<()> {
        self.inner.record_attempt(id, attempt).await
    }

    async fn deliveries(&self, token_id: &str, limit: i64) -> StoreResult<Vec<super::DeliveryRecord>> {
        self.inner.deliveries(token_id, limit).await
    }
}

/// Complaints are read by their complainant and handler only: nothing to cache.
#[async_trait]
impl super::Complaints for CachedStore {
    async fn file_complaint(
        &self,
        complaint: &crate::domain::complaint::Complaint,
        access_sha256: &str,
        event: crate::publish::batch::PendingEvent,
    ) -> StoreResult<i64> {
        self.inner.file_complaint(complaint, access_sha256, event).await
    }

    async fn complaint(
        &self,
        tracking_number: &str,
    ) -> StoreResult<Option<(crate::domain::complaint::Complaint, String)>> {
        self.inner.complaint(tracking_number).await
    }

    async fn update_complaint(
        &self,
        complaint: &crate::domain::complaint::Complaint,
        event: crate::publish::batch::PendingEvent,
    ) -> StoreResult<i64> {
        self.inner.update_complaint(complaint, event).await
    }

    async fn complaint_counts(&self, session_id: &str) -> StoreResult<crate::domain::complaint::ComplaintCounts> {
        self.inner.complaint_counts(session_id).await
    }
}
