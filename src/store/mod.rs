//! Persistence. One [`Store`] trait; an SQLite and a PostgreSQL implementation that share
//! their SQL (see `sql.rs`), chosen at start-up from the database URL.

use std::sync::Arc;

use async_trait::async_trait;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::Date;
use crate::domain::authority::{Authority, AuthorityGraph, Delegation};
use crate::domain::authorization::Authorization;
use crate::domain::certificate::IssuerKey;
use crate::domain::committee::{Committee, CommitteeRecord};
use crate::domain::log::Disclosure;
use crate::domain::publish::{Actor, Operation, Role};
use crate::domain::sanction::{Sanction, SubjectKind};
use crate::domain::verification::RegisteredCertificate;
use crate::tlog::tiles::TileKey;

pub mod cached;
mod error;
mod log;
mod postgres;
mod replica;
mod rows;
pub mod secrets;
mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

pub use crate::publish::{Applied, OperationSource, WriteOutcome};
pub use error::{LOCK_WAIT, StoreError, StoreResult};
pub use postgres::WRITE_LOCK as POSTGRES_WRITE_LOCK;
pub use replica::{ReplicaSettings, ReplicaState, ReplicaStats};

/// Filters the database can apply itself; derived-state filters (status, series, level,
/// as-of dates) are applied above it on the derived records.
#[derive(Debug, Clone, Default)]
pub struct CommitteeRowFilter {
    /// Words (split at white space, at most [`MAX_SEARCH_TERMS`]), each a substring of the
    /// committee's or the organizing unit's name, of their pinyin (`domain::search::pinyin_key`)
    /// or of an official web domain, or the organizing unit's whole credit code.
    pub q: Option<String>,
    /// A 6-digit region code; committees located in its subtree.
    pub region: Option<String>,
    /// Approved by this authority.
    pub authority_id: Option<String>,
    /// Holding an authorization (of any date or state) for this series: a prefilter the
    /// database applies before the as-of-date checks.
    pub series: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct SanctionRowFilter {
    pub subject_kind: Option<SubjectKind>,
    pub committee_id: Option<String>,
    pub region: Option<String>,
    pub q: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct NoticeFilter {
    pub id: Option<String>,
    pub committee_id: Option<String>,
    pub session_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct InspectionFilter {
    pub plan_id: Option<String>,
    pub committee_id: Option<String>,
}

/// The signed checkpoint that seeds a plan's draw: the first past the plan's log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DrawSeed {
    pub size: u64,
    /// The C2SP signed note, exactly as served at `/log/checkpoint` then.
    pub note: String,
}

#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    pub committee_id: Option<String>,
    /// Meeting on or after this date.
    pub meets_from: Option<Date>,
    /// Meeting on or before this date.
    pub meets_until: Option<Date>,
}

#[derive(Debug, Clone, Default)]
pub struct AuthorityFilter {
    pub region: Option<String>,
    pub parent_id: Option<String>,
}

/// Everything one import writes, applied in one transaction: all of it or none of it.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub authorities: Vec<Authority>,
    pub delegations: Vec<Delegation>,
    pub committees: Vec<Committee>,
    pub authorizations: Vec<Authorization>,
    pub sanctions: Vec<Sanction>,
    pub keys: Vec<crate::domain::certificate::IssuerKey>,
    pub certificates: Vec<DatasetCertificate>,
}

impl Dataset {
    /// Each committee with its authorizations and committee sanctions.
    pub fn committee_records(&self) -> Vec<CommitteeRecord> {
        self.committees
            .iter()
            .map(|c| CommitteeRecord {
                committee: c.clone(),
                authorizations: self.authorizations.iter().filter(|a| a.committee_id == c.id).cloned().collect(),
                sanctions: self.sanctions.iter().filter(|s| s.subject.id.as_deref() == Some(&c.id)).cloned().collect(),
            })
            .collect()
    }
}

/// A signed certificate loaded in bulk, with its registration time and status history.
#[derive(Debug, Clone)]
pub struct DatasetCertificate {
    pub credential: serde_json::Value,
    pub key_id: String,
    /// The authority whose status lists carry it.
    pub status_authority: String,
    pub revocation_index: i64,
    pub suspension_index: i64,
    pub logged_at: DateTime<Utc>,
    /// (action: revoked | suspended | unsuspended, reason, effective at), oldest first.
    pub changes: Vec<(&'static str, String, DateTime<Utc>)>,
}

/// How many rows of each kind the registry holds.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct Counts {
    pub authorities: i64,
    pub committees: i64,
    pub authorizations: i64,
    pub sanctions: i64,
}

pub use crate::domain::log::Event;

/// A signed tree head as stored: the tree size, its root, and the C2SP signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub root: crate::tlog::merkle::Hash,
    pub note: String,
}

/// What `/metrics` reports of a store: its connection pool, and each cache's hits and misses.
#[derive(Debug, Clone, Default)]
pub struct StoreStats {
    pub pool_connections: u32,
    pub pool_idle: u32,
    /// (cache, hits, misses)
    pub caches: Vec<(&'static str, u64, u64)>,
    /// How many writes took the write lock, and how long they waited for it in all.
    pub write_locks: u64,
    pub write_lock_wait_seconds: f64,
    pub replica: Option<ReplicaStats>,
}

/// Counts the waits for the write lock, for `/metrics`: a growing wait is the first sign that
/// writers queue behind one another.
#[derive(Debug, Default)]
pub(crate) struct LockWaits {
    count: std::sync::atomic::AtomicU64,
    micros: std::sync::atomic::AtomicU64,
}

impl LockWaits {
    pub(crate) fn record(&self, waited: std::time::Duration) {
        use std::sync::atomic::Ordering::Relaxed;
        self.count.fetch_add(1, Relaxed);
        self.micros.fetch_add(u64::try_from(waited.as_micros()).unwrap_or(u64::MAX), Relaxed);
    }

    /// (writes, seconds waited in all)
    pub(crate) fn totals(&self) -> (u64, f64) {
        use std::sync::atomic::Ordering::Relaxed;
        (self.count.load(Relaxed), self.micros.load(Relaxed) as f64 / 1e6)
    }
}

/// Signs the checkpoint of a tree `(size, root)`, returning the signed note.
pub type CheckpointSigner<'a> = dyn Fn(u64, &crate::tlog::merkle::Hash) -> String + Send + Sync + 'a;

/// Stored log tiles by `(level, index)`.
pub type TileMap = std::collections::HashMap<crate::tlog::tiles::TileKey, Vec<crate::tlog::merkle::Hash>>;

#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub authority_id: Option<String>,
    pub entity_type: Option<String>,
    pub kind: Option<String>,
    pub entity_id: Option<String>,
}

/// A client's `Idempotency-Key` and a digest of the request it came with.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    pub request_sha256: String,
}

/// A token as listed: never the secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TokenInfo {
    pub id: String,
    pub authority_id: String,
    pub role: Role,
    pub label: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// A committee's organizing unit holds this token: it acts for that committee only.
    pub committee_id: Option<String>,
}

/// A certificate as status lists and bundles see it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CertificateStatus {
    pub number: String,
    pub credential_sha256: String,
    pub status_authority: String,
    pub revocation_index: Option<i64>,
    pub suspension_index: Option<i64>,
    pub state: crate::domain::verification::CertificateState,
    pub logged_at: DateTime<Utc>,
}

pub enum TokenCheck {
    Valid(Actor),
    Revoked,
    Unknown,
}

/// Called with the number of operations applied so far.
pub type Progress<'a> = &'a (dyn Fn(usize) + Send + Sync);

/// What the public registry pages and answers read: authorities, committees with their
/// records, sanctions.
#[async_trait]
pub trait RegistryReads: Send + Sync + 'static {
    /// Which database this is, for logs and `/readyz`.
    fn backend(&self) -> &'static str;

    /// Checks the database answers.
    async fn ping(&self) -> StoreResult<()>;

    /// The connection pool's and the caches' counters, for `/metrics` (no I/O).
    fn stats(&self) -> StoreStats {
        StoreStats::default()
    }

    async fn counts(&self) -> StoreResult<Counts>;

    async fn authority_graph(&self) -> StoreResult<Arc<AuthorityGraph>>;

    async fn authorities_after(
        &self,
        filter: &AuthorityFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Authority>>;

    /// Committees with id greater than `after`, ordered by id, with their authorizations
    /// and committee sanctions.
    async fn committees_after(
        &self,
        filter: &CommitteeRowFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<CommitteeRecord>>;

    /// One committee's record, shared: callers may key derived data (rendered pages) on its identity.
    async fn committee(&self, id: &str) -> StoreResult<Option<Arc<CommitteeRecord>>>;

    /// A number that changes whenever a committee record or the authority graph this store
    /// hands out may have changed; `None` when the store cannot tell. Read before `committee`,
    /// an unchanged version later means the record read is still current.
    fn committees_version(&self) -> Option<u64> {
        None
    }

    async fn sanctions_after(
        &self,
        filter: &SanctionRowFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Sanction>>;

    /// Evaluation sessions with id greater than `after`, ordered by id, with their outcomes.
    async fn sessions_after(
        &self,
        filter: &SessionFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<crate::domain::session::EvaluationSession>>;

    async fn session(&self, id: &str) -> StoreResult<Option<crate::domain::session::EvaluationSession>>;

    /// The supervision visits recorded for a session.
    async fn visits(&self, session_id: &str) -> StoreResult<Vec<crate::domain::supervisor::Visit>>;

    /// A spot-check plan and, once signed, the checkpoint that seeds its draw.
    async fn draw_plan(&self, id: &str) -> StoreResult<Option<(crate::domain::draw::DrawPlan, Option<DrawSeed>)>>;

    /// Spot-check plans with id greater than `after`, ordered by id, each with its seed once signed.
    async fn draw_plans_after(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<(crate::domain::draw::DrawPlan, Option<DrawSeed>)>>;

    async fn inspections_after(
        &self,
        filter: &InspectionFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<crate::domain::draw::Inspection>>;

    async fn notices_after(
        &self,
        filter: &NoticeFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<crate::domain::notice::Notice>>;

    /// Each of these committees' latest inspection date, where it has one.
    async fn last_inspected(
        &self,
        committee_ids: &std::collections::HashSet<String>,
    ) -> StoreResult<Vec<(String, Date)>>;
}

/// Writes, and the history they leave.
#[async_trait]
pub trait Publishing: Send + Sync + 'static {
    /// Writes a whole dataset in one transaction, with one event per record attributed to
    /// `credential`. For trusted bulk loads (demo data, fixtures); publications use `execute`.
    async fn import_dataset(&self, dataset: &Dataset, credential: &str) -> StoreResult<()>;

    /// Applies operations in one transaction: each is checked against the state left by the
    /// ones before it, written, and recorded as an event. Any broken rule rejects all of them
    /// (`StoreError::Rejected`, the bad operations by position) and writes nothing. Operations
    /// are taken and written a chunk at a time, so memory does not grow with their number.
    async fn execute_from(
        &self,
        actor: &Actor,
        ops: &mut dyn OperationSource,
        idempotency: Option<&Idempotency>,
        progress: Option<Progress<'_>>,
    ) -> StoreResult<WriteOutcome>;

    /// `execute_from` over operations in memory; rejections name 1-based indexes.
    async fn execute(
        &self,
        actor: &Actor,
        ops: &[Operation],
        idempotency: Option<&Idempotency>,
        progress: Option<Progress<'_>>,
    ) -> StoreResult<WriteOutcome> {
        self.execute_from(actor, &mut crate::publish::Listed::new(ops), idempotency, progress).await
    }

    async fn events_after(&self, filter: &EventFilter, after: Option<i64>, limit: u32) -> StoreResult<Vec<Event>>;
}

/// API tokens.
#[async_trait]
pub trait Tokens: Send + Sync + 'static {
    /// Creates a token and returns it with its secret, which is not stored. With an
    /// idempotency key (scoped to `created_by`'s authority, `key_owner`), a second request with
    /// the same key is refused: the secret was shown once and cannot be shown again. With
    /// `committee_id`, the token is its organizing unit's (the committee must be `authority_id`'s).
    async fn create_token(
        &self,
        authority_id: &str,
        role: Role,
        committee_id: Option<&str>,
        label: Option<&str>,
        created_by: &str,
        idempotency: Option<(&str, &Idempotency)>,
    ) -> StoreResult<(TokenInfo, String)>;

    /// Looks a secret up and records its use.
    async fn authenticate(&self, secret: &str) -> StoreResult<TokenCheck>;

    async fn tokens(&self, authority_id: &str) -> StoreResult<Vec<TokenInfo>>;

    /// Revokes a token of `authority_id`; `None` when it has no such token.
    async fn revoke_token(&self, authority_id: &str, token_id: &str) -> StoreResult<Option<TokenInfo>>;
}

/// Issuer keys and registered certificates.
#[async_trait]
pub trait CertificateReads: Send + Sync + 'static {
    /// Every registered issuer key (a few per issuer: small). Shared, because every
    /// verification looks its signer up here.
    async fn keys(&self) -> StoreResult<Arc<Vec<IssuerKey>>>;

    /// What the registry holds about a certificate number (no credential text).
    async fn registered_certificate(&self, number: &str) -> StoreResult<Option<RegisteredCertificate>>;

    /// A registered supervisor credential (no credential text), revoked or not.
    async fn registered_supervisor(&self, number: &str) -> StoreResult<Option<RegisteredCertificate>>;

    /// A registered certificate and its credential.
    async fn certificate(&self, number: &str) -> StoreResult<Option<(RegisteredCertificate, serde_json::Value)>>;

    /// Every registered certificate's digest, status-list slots and current state (no names),
    /// for one status authority or all: status lists and offline bundles are built from this.
    async fn certificate_states(&self, status_authority: Option<&str>) -> StoreResult<Vec<CertificateStatus>>;
}

/// A public dataset, as exports write it: one row per entity, in id order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Table {
    Authorities,
    Delegations,
    Committees,
    Authorizations,
    Sanctions,
    Keys,
    /// Every registered certificate's number, credential digest and status: no holder, no
    /// credential text.
    Certificates,
    /// Evaluation sessions as registered, each with its outcome once published.
    Sessions,
    /// Public notices of evaluation results.
    Notices,
    /// Spot-check draw plans, each with its log index (the draw is recomputed from them).
    Draws,
    /// Inspections of drawn committees.
    Inspections,
    /// Supervision visits to sessions: the supervisors' credential numbers, no names.
    Visits,
}

impl crate::domain::code::Code for Table {}

impl Table {
    pub const ALL: [Table; 12] = [
        Table::Authorities,
        Table::Delegations,
        Table::Committees,
        Table::Authorizations,
        Table::Sanctions,
        Table::Keys,
        Table::Certificates,
        Table::Sessions,
        Table::Notices,
        Table::Draws,
        Table::Inspections,
        Table::Visits,
    ];
}

/// A certificate's public status row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateStatusRow {
    pub number: String,
    pub credential_sha256: String,
    #[serde(flatten)]
    pub state: crate::domain::verification::CertificateState,
}

/// One exported row: the record as the API shows it (without derived, date-dependent status).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ExportRow {
    Authority(Authority),
    Delegation(Delegation),
    Committee(Committee),
    Authorization(Authorization),
    Sanction(Sanction),
    Key(IssuerKey),
    Certificate(CertificateStatusRow),
    Session(crate::domain::session::EvaluationSession),
    Notice(crate::domain::notice::Notice),
    Draw(crate::domain::draw::DrawPlan),
    Inspection(crate::domain::draw::Inspection),
    Visit(crate::domain::supervisor::Visit),
}

/// What an export sends, in this order: the log size its one consistent read reflects, then
/// for each table its start and its rows in chunks.
#[derive(Debug)]
pub enum Exported {
    LogSize(u64),
    Start(Table),
    Rows(Vec<ExportRow>),
}

/// Rows per [`Exported::Rows`] chunk.
pub const EXPORT_CHUNK: usize = 512;

/// Whole-table reads for exports, streamed in constant memory.
#[async_trait]
pub trait Exports: Send + Sync + 'static {
    /// Streams `tables` into `out` from one consistent read of the database (a snapshot
    /// transaction), in id order. Stops early, without error, when the receiver is dropped.
    async fn export(&self, tables: &[Table], out: tokio::sync::mpsc::Sender<Exported>) -> StoreResult<()>;

    /// Appends one event that is no registry record (a snapshot's manifest) to the log;
    /// returns its index.
    async fn log_record(&self, event: crate::publish::batch::PendingEvent) -> StoreResult<i64>;

    /// Writes an online, consistent copy of the whole database to the new file `path` (SQLite's
    /// `VACUUM INTO`) and says so; `false` where the database has its own tools (PostgreSQL:
    /// `pg_dump`, docs/OPERATIONS.md).
    async fn copy_database(&self, path: &str) -> StoreResult<bool>;
}

/// The transparency log: its size, tiles, checkpoints and the disclosures behind commitments.
#[async_trait]
pub trait LogStore: Send + Sync + 'static {
    /// How many events the log holds: what a verification was checked against.
    async fn log_size(&self) -> StoreResult<i64>;

    /// Stored tiles of the log's hash tree (any width; missing ones are left out).
    async fn log_tiles(&self, keys: &[TileKey]) -> StoreResult<TileMap>;

    /// The newest signed checkpoint.
    async fn latest_checkpoint(&self) -> StoreResult<Option<StoredCheckpoint>>;

    /// The checkpoint signed at exactly `size`, if one was.
    async fn checkpoint_at(&self, size: u64) -> StoreResult<Option<StoredCheckpoint>>;

    /// Signs and stores a checkpoint of the whole log when it grew since the last one (or
    /// none exists). `None` when there is nothing new, or another node is the sequencer.
    async fn sign_checkpoint(&self, sign: &CheckpointSigner<'_>) -> StoreResult<Option<StoredCheckpoint>>;

    /// What the commitments of events `start..end` stand for, where not erased.
    async fn disclosures(&self, start: i64, end: i64) -> StoreResult<Vec<(i64, Disclosure)>>;

    /// Erases the personal data behind event `seq`'s commitments; the log is untouched.
    async fn erase_disclosures(&self, seq: i64) -> StoreResult<u64>;
}

/// What a watch-list item follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WatchKind {
    Certificate,
    Committee,
}

impl crate::domain::code::Code for WatchKind {}

/// One watched certificate (by number) or committee (by id).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WatchItem {
    pub kind: WatchKind,
    pub id: String,
}

/// A notification due: where to send it, what, and how often it was tried before.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: String,
    pub url: String,
    pub body: String,
    pub attempts: i32,
}

/// A notification as the delivery log shows it.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct DeliveryRecord {
    /// The Standard Webhooks message id (`webhook-id`).
    pub id: String,
    /// The log index of the event it tells of.
    pub event_seq: i64,
    pub attempts: i32,
    pub delivered_at: Option<DateTime<Utc>>,
    /// When it is tried next; absent once delivered or given up.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The receiver's HTTP status at the last attempt.
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// How one attempt to deliver went.
#[derive(Debug, Clone)]
pub enum Attempt {
    Delivered {
        status: u16,
    },
    /// `retry_at` absent: no more attempts.
    Failed {
        status: Option<u16>,
        error: String,
        retry_at: Option<DateTime<Utc>>,
    },
}

/// Writes a notification's body from the event and the watched items it concerns.
pub type NotificationBody = dyn for<'a> Fn(&'a Event, &'a [WatchItem]) -> String + Send + Sync;

/// Watch-lists and the notifications they owe: each API token has one list and one URL.
#[async_trait]
pub trait Watches: Send + Sync + 'static {
    /// Sets (or with `None` removes) where the token's notifications go.
    async fn set_watch_endpoint(&self, token_id: &str, url: Option<&str>) -> StoreResult<()>;

    async fn watch_endpoint(&self, token_id: &str) -> StoreResult<Option<String>>;

    /// Adds and removes items in one transaction; refused, changing nothing, when the list would
    /// hold more than `max`. Returns how many it holds after.
    async fn change_watch_list(
        &self,
        token_id: &str,
        add: &[WatchItem],
        remove: &[WatchItem],
        max: usize,
    ) -> StoreResult<usize>;

    /// The token's list, in order.
    async fn watch_list(&self, token_id: &str) -> StoreResult<Vec<WatchItem>>;

    /// Matches up to `limit` events after the last matched one against every list, queuing one
    /// notification per (token with a URL, event) whose body `body` writes from the event and
    /// the items it concerns. Returns how many events were matched (0: caught up).
    async fn match_watches(&self, limit: u32, body: &NotificationBody) -> StoreResult<usize>;

    /// Notifications whose next attempt is due by `now`, oldest first.
    async fn due_deliveries(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<DueDelivery>>;

    async fn record_attempt(&self, id: &str, attempt: &Attempt) -> StoreResult<()>;

    /// The token's newest notifications first (the delivery log).
    async fn deliveries(&self, token_id: &str, limit: i64) -> StoreResult<Vec<DeliveryRecord>>;
}

/// Complaints: personal data kept out of every public answer and out of the log, which records
/// only their receipt and status changes (the `event` each write appends in its transaction).
#[async_trait]
pub trait Complaints: Send + Sync + 'static {
    /// Stores a new complaint with the digest of its access code; returns the event's index.
    async fn file_complaint(
        &self,
        complaint: &crate::domain::complaint::Complaint,
        access_sha256: &str,
        event: crate::publish::batch::PendingEvent,
    ) -> StoreResult<i64>;

    /// A complaint and the digest of its access code.
    async fn complaint(
        &self,
        tracking_number: &str,
    ) -> StoreResult<Option<(crate::domain::complaint::Complaint, String)>>;

    /// Stores a complaint's new status and note.
    async fn update_complaint(
        &self,
        complaint: &crate::domain::complaint::Complaint,
        event: crate::publish::batch::PendingEvent,
    ) -> StoreResult<i64>;

    /// How many complaints a session received, and how many were concluded.
    async fn complaint_counts(&self, session_id: &str) -> StoreResult<crate::domain::complaint::ComplaintCounts>;
}

/// The whole store: every purpose's trait. Callers name the trait of the methods they use
/// (`use crate::store::prelude::*` brings them all).
pub trait Store:
    RegistryReads + Publishing + Tokens + CertificateReads + LogStore + Exports + Watches + Complaints
{
}

impl<T: RegistryReads + Publishing + Tokens + CertificateReads + LogStore + Exports + Watches + Complaints> Store
    for T
{
}

/// The store's traits, for `use crate::store::prelude::*`.
pub mod prelude {
    pub use super::{
        CertificateReads, Complaints, Exports, LogStore, Publishing, RegistryReads, Store, Tokens, Watches,
    };
}

pub type DynStore = Arc<dyn Store>;

/// Opens the store a database URL names, creating the SQLite file when asked, and runs
/// the migrations.
pub async fn connect(url: &str, create_if_missing: bool) -> StoreResult<DynStore> {
    connect_with_replica(url, create_if_missing, None).await
}

/// As [`connect`], with a PostgreSQL streaming replica for lag-tolerant reads.
pub async fn connect_with_replica(
    url: &str,
    create_if_missing: bool,
    replica: Option<&ReplicaSettings>,
) -> StoreResult<DynStore> {
    let postgres = url.starts_with("postgres://") || url.starts_with("postgresql://");
    if replica.is_some() && !postgres {
        return Err(StoreError::Config(
            "只读副本只用于 PostgreSQL / a read replica needs a PostgreSQL primary".to_string(),
        ));
    }
    if postgres {
        Ok(Arc::new(PgStore::connect(url, replica).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url, create_if_missing).await?))
    } else {
        Err(StoreError::Config(format!(
            "数据库地址应以 sqlite: 或 postgres:// 开头 / the database URL must start with sqlite: or postgres:// (got {})",
            redact_url(url)
        )))
    }
}

/// A database URL with any password replaced, fit for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

/// A `LIKE` pattern matching `text` anywhere, with `%`, `_` and `\` escaped.
pub(crate) fn contains_pattern(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// The most words a search matches: each adds a condition to every row scanned.
pub const MAX_SEARCH_TERMS: usize = 6;

/// The words of a search, at most [`MAX_SEARCH_TERMS`].
pub(crate) fn search_terms(q: &str) -> Vec<&str> {
    q.split_whitespace().take(MAX_SEARCH_TERMS).collect()
}

/// A `LIKE` pattern matching every region code inside `region`; `None` for nationwide.
pub(crate) fn region_pattern(region: &str) -> Option<String> {
    crate::domain::catalog::region_prefix(region).map(|p| format!("{p}%"))
}

/// When the log reached `size`: its newest entry's time (now, for an empty log). What the
/// registry signs for one log size carries this time, so every node signs the same bytes.
pub async fn log_time(store: &dyn Store, size: i64) -> StoreResult<DateTime<Utc>> {
    let newest = store.events_after(&Default::default(), Some(size - 2), 1).await?;
    Ok(newest.first().map_or_else(Utc::now, |e| e.logged_at))
}

/// Dates answer "as of" questions; today in China's time zone is the default.
pub fn today() -> Date {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_never_reach_logs() {
        assert_eq!(super::redact_url("postgres://app:s3cret@db:5432/zc"), "postgres://app:***@db:5432/zc");
        assert_eq!(super::redact_url("sqlite://data/zhicheng.db"), "sqlite://data/zhicheng.db");
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(super::contains_pattern("50%_\\"), "%50\\%\\_\\\\%");
        assert_eq!(super::region_pattern("220100").as_deref(), Some("2201%"));
        assert_eq!(super::region_pattern("000000"), None);
    }
}
