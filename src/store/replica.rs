//! An optional PostgreSQL streaming replica for lag-tolerant reads (searches, lists, counts,
//! exports). Everything else — writes, the log, checkpoints, certificates, keys, tokens, the
//! records verification and committee pages read — stays on the primary (docs/SCALING.md).
//!
//! The transparency log is the watermark: every registry write appends events in the same
//! transaction, so a replica holding as many events as the primary held at some moment holds
//! every record as of that moment. A monitor compares the two every quarter second; a read goes
//! to the replica only while
//! - it answered its last check,
//! - it is missing no event the primary has held for longer than the bound (`max_lag`), and
//! - it holds this node's own newest write (read-your-writes on the writing node).
//!
//! Otherwise, and whenever a read on the replica fails, the primary answers.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use serde::Serialize;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Pool, Postgres};
use utoipa::ToSchema;

use crate::store::StoreError;

/// Where lag-tolerant reads may go, and how far behind the primary they may be.
#[derive(Debug, Clone)]
pub struct ReplicaSettings {
    pub url: String,
    pub max_lag: Duration,
}

/// How often the replica's progress is checked.
const CHECK_EVERY: Duration = Duration::from_millis(250);
/// How long a check may take before the replica counts as down.
const CHECK_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a read waits for a replica connection (sqlx retries a refused connection until
/// then): the one read that finds the replica gone pays this once, then the primary answers.
const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(500);
/// Primary log sizes closer together than this share one mark (the earlier time: the lag it
/// gives is over-estimated by less than this, never under-estimated).
const MARK_SPACING: Duration = Duration::from_millis(100);
/// The most marks kept while the replica is stuck; by then the lag is far past any bound.
const MAX_MARKS: usize = 10_000;

/// What the replica is doing for this node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaState {
    /// Serving lag-tolerant reads.
    InUse,
    /// Up, but behind the bound or behind this node's own writes: the primary answers.
    Lagging,
    /// Did not answer its last check: the primary answers.
    Unreachable,
}

/// What `/metrics` and `/readyz` report of the replica.
#[derive(Debug, Clone, Copy)]
pub struct ReplicaStats {
    pub state: ReplicaState,
    /// How long the oldest event the replica is missing has been on the primary.
    pub lag_seconds: f64,
    /// Lag-tolerant reads answered by the replica, and by the primary in its place.
    pub replica_reads: u64,
    pub primary_reads: u64,
}

/// The bookkeeping behind the routing decision, without I/O.
#[derive(Debug, Default)]
struct Watermarks {
    /// When the primary was first seen holding each larger log size, oldest first.
    primary: VecDeque<(Instant, i64)>,
    /// The replica's log size at its last check; `None` when it did not answer.
    replica: Option<i64>,
    /// The log size after this node's newest write.
    written: i64,
}

impl Watermarks {
    fn primary_at(&mut self, size: i64, now: Instant) {
        match self.primary.back_mut() {
            Some((_, newest)) if size <= *newest => {}
            Some((at, newest)) if now.duration_since(*at) < MARK_SPACING => *newest = size,
            _ => self.primary.push_back((now, size)),
        }
        self.forget_passed();
    }

    fn replica_at(&mut self, size: Option<i64>) {
        self.replica = size;
        self.forget_passed();
    }

    /// Drops marks the replica has passed (keeping the newest: it is the primary's size).
    fn forget_passed(&mut self) {
        let replica = self.replica.unwrap_or(-1);
        while self.primary.len() > 1 && (self.primary[0].1 <= replica || self.primary.len() > MAX_MARKS) {
            self.primary.pop_front();
        }
    }

    /// How long the primary has held an event the replica lacks; `None`: unreachable.
    fn lag(&self, now: Instant) -> Option<Duration> {
        let replica = self.replica?;
        let missing_since = self.primary.iter().find(|(_, size)| *size > replica).map(|(at, _)| *at);
        Some(missing_since.map_or(Duration::ZERO, |at| now.saturating_duration_since(at)))
    }

    fn state(&self, now: Instant, max_lag: Duration) -> ReplicaState {
        match (self.lag(now), self.replica) {
            (Some(lag), Some(size)) if lag <= max_lag && size >= self.written => ReplicaState::InUse,
            (Some(_), _) => ReplicaState::Lagging,
            (None, _) => ReplicaState::Unreachable,
        }
    }
}

/// A replica and what is known of its progress.
pub struct Replica {
    pool: Pool<Postgres>,
    max_lag: Duration,
    marks: Mutex<Watermarks>,
    replica_reads: AtomicU64,
    primary_reads: AtomicU64,
}

impl Replica {
    /// Connects lazily: a replica that is down at start-up is used once it answers.
    pub fn open(settings: &ReplicaSettings) -> Result<Replica, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_lazy(&settings.url)
            .map_err(|e| StoreError::Config(format!("只读副本地址无效 / invalid replica URL: {e}")))?;
        Ok(Replica {
            pool,
            max_lag: settings.max_lag,
            marks: Mutex::default(),
            replica_reads: AtomicU64::new(0),
            primary_reads: AtomicU64::new(0),
        })
    }

    fn marks(&self) -> std::sync::MutexGuard<'_, Watermarks> {
        self.marks.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The replica's pool when a lag-tolerant read may use it now.
    pub fn for_read(&self) -> Option<Pool<Postgres>> {
        let usable = self.marks().state(Instant::now(), self.max_lag) == ReplicaState::InUse;
        if usable {
            Some(self.pool.clone())
        } else {
            self.primary_reads.fetch_add(1, Ordering::Relaxed);
            None
        }
    }

    /// A read on the replica succeeded.
    pub fn served(&self) {
        self.replica_reads.fetch_add(1, Ordering::Relaxed);
    }

    /// A read on the replica failed: it is treated as down until its next check answers.
    pub fn failed(&self, error: &StoreError) {
        tracing::warn!(%error, "a read on the replica failed; the primary answers until it is back");
        self.primary_reads.fetch_add(1, Ordering::Relaxed);
        self.marks().replica_at(None);
    }

    /// This node wrote: its lag-tolerant reads stay on the primary until the replica has it.
    pub fn wrote(&self, log_size: i64) {
        let mut marks = self.marks();
        marks.written = marks.written.max(log_size);
        marks.primary_at(log_size, Instant::now());
    }

    pub fn stats(&self) -> ReplicaStats {
        let marks = self.marks();
        let now = Instant::now();
        ReplicaStats {
            state: marks.state(now, self.max_lag),
            lag_seconds: marks.lag(now).map_or(0.0, |lag| lag.as_secs_f64()),
            replica_reads: self.replica_reads.load(Ordering::Relaxed),
            primary_reads: self.primary_reads.load(Ordering::Relaxed),
        }
    }

    /// Checks the primary's and the replica's log sizes every `CHECK_EVERY` until the store
    /// is dropped.
    pub fn follow(replica: &Arc<Replica>, primary: Pool<Postgres>) {
        let replica = Arc::downgrade(replica);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(CHECK_EVERY);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(replica) = Weak::upgrade(&replica) else { return };
                replica.check(&primary).await;
            }
        });
    }

    /// The primary first, then the replica: a replica holding what the primary held a moment
    /// before is not behind.
    async fn check(&self, primary: &Pool<Postgres>) {
        let primary_size = log_size(primary).await;
        let checked = Instant::now();
        let replica_size = log_size(&self.pool).await;
        let mut marks = self.marks();
        if let Some(size) = primary_size {
            marks.primary_at(size, checked);
        }
        let was_reachable = marks.replica.is_some();
        marks.replica_at(replica_size);
        if was_reachable != replica_size.is_some() {
            tracing::warn!(reachable = replica_size.is_some(), "the replica's reachability changed");
        }
    }
}

async fn log_size(pool: &Pool<Postgres>) -> Option<i64> {
    let query = sqlx::query_scalar::<_, i64>("SELECT COALESCE(MAX(seq) + 1, 0) FROM events").fetch_one(pool);
    tokio::time::timeout(CHECK_TIMEOUT, query).await.ok()?.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUND: Duration = Duration::from_secs(2);

    #[test]
    fn a_replica_holding_what_the_primary_held_is_in_use() {
        let t0 = Instant::now();
        let mut marks = Watermarks::default();
        marks.primary_at(10, t0);
        marks.replica_at(Some(10));
        assert_eq!(marks.lag(t0 + BOUND * 5), Some(Duration::ZERO), "an idle registry has no lag");
        assert_eq!(marks.state(t0, BOUND), ReplicaState::InUse);
    }

    #[test]
    fn lag_is_the_age_of_the_oldest_event_the_replica_lacks() {
        let t0 = Instant::now();
        let mut marks = Watermarks::default();
        marks.primary_at(10, t0);
        marks.primary_at(12, t0 + Duration::from_secs(1));
        marks.primary_at(15, t0 + Duration::from_secs(2));
        marks.replica_at(Some(12));
        assert_eq!(marks.lag(t0 + Duration::from_secs(3)), Some(Duration::from_secs(1)));
        assert_eq!(marks.state(t0 + Duration::from_secs(3), BOUND), ReplicaState::InUse);
        assert_eq!(marks.state(t0 + Duration::from_secs(5), BOUND), ReplicaState::Lagging);
        marks.replica_at(Some(15));
        assert_eq!(marks.state(t0 + Duration::from_secs(5), BOUND), ReplicaState::InUse);
        assert_eq!(marks.primary.len(), 1, "passed marks are forgotten");
    }

    #[test]
    fn sizes_close_together_share_the_earlier_time() {
        let t0 = Instant::now();
        let mut marks = Watermarks::default();
        marks.primary_at(10, t0);
        marks.primary_at(11, t0 + Duration::from_millis(50));
        marks.replica_at(Some(10));
        assert_eq!(marks.lag(t0 + Duration::from_secs(1)), Some(Duration::from_secs(1)), "over-estimated, not under");
    }

    #[test]
    fn own_writes_keep_reads_on_the_primary_until_the_replica_has_them() {
        let t0 = Instant::now();
        let mut marks = Watermarks::default();
        marks.replica_at(Some(10));
        marks.written = 11;
        marks.primary_at(11, t0);
        assert_eq!(marks.state(t0, BOUND), ReplicaState::Lagging, "within the bound, but without this node's write");
        marks.replica_at(Some(11));
        assert_eq!(marks.state(t0, BOUND), ReplicaState::InUse);
    }

    #[test]
    fn a_silent_replica_is_unreachable() {
        let mut marks = Watermarks::default();
        marks.replica_at(None);
        assert_eq!(marks.state(Instant::now(), BOUND), ReplicaState::Unreachable);
    }
}
