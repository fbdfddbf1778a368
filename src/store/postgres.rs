//! PostgreSQL, for production: several API nodes on one database.

use std::sync::Arc;

use sqlx::postgres::PgPoolOptions;
use sqlx::{Pool, Postgres};

use crate::store::replica::{Replica, ReplicaSettings};
use crate::store::{LockWaits, StoreError, StoreResult};

pub struct PgStore {
    pool: Pool<Postgres>,
    /// Lag-tolerant reads go here while it keeps up (`replica.rs`).
    replica: Option<Arc<Replica>>,
    lock_waits: LockWaits,
}

impl PgStore {
    pub const BACKEND: &'static str = "postgres";

    pub async fn connect(url: &str, replica: Option<&ReplicaSettings>) -> Result<Self, StoreError> {
        let pool =
            PgPoolOptions::new().max_connections(16).acquire_timeout(super::error::LOCK_WAIT).connect(url).await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        let replica = replica.map(Replica::open).transpose()?.map(Arc::new);
        if let Some(replica) = &replica {
            Replica::follow(replica, pool.clone());
        }
        let store = PgStore { pool, replica, lock_waits: LockWaits::default() };
        store.catch_up_log().await?;
        store.fill_search_keys().await?;
        Ok(store)
    }
}

/// A read-only transaction that sees one snapshot of the database throughout.
const SNAPSHOT: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

/// Key of the advisory lock that serializes writers across every API node on one database.
pub const WRITE_LOCK: i64 = 0x7a68_6963_6865_6e67;
/// Key of the advisory lock held by the node signing checkpoints.
const SEQUENCER_LOCK: i64 = 0x7a68_6963_6865_6e68;

impl PgStore {
    /// One writer at a time across all nodes: event numbers stay dense and each write
    /// validates against a state nobody else is changing.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Postgres>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let asked = std::time::Instant::now();
        lock_for_writing(&mut tx).await?;
        self.lock_waits.record(asked.elapsed());
        Ok(tx)
    }

    /// A read that may be a little behind: on the replica while it keeps up, else (or when
    /// it fails there) on the primary.
    async fn lag_tolerant<T, Fut>(&self, read: impl Fn(Pool<Postgres>) -> Fut) -> StoreResult<T>
    where
        Fut: std::future::Future<Output = StoreResult<T>>,
    {
        if let Some(replica) = &self.replica
            && let Some(pool) = replica.for_read()
        {
            match read(pool).await {
                Ok(answer) => {
                    replica.served();
                    return Ok(answer);
                }
                Err(e) => replica.failed(&e),
            }
        }
        read(self.pool.clone()).await
    }

    /// A snapshot for an export: on the replica while it keeps up.
    async fn begin_lag_tolerant_snapshot(&self) -> StoreResult<sqlx::Transaction<'static, Postgres>> {
        self.lag_tolerant(|pool| async move { Ok(pool.begin_with(SNAPSHOT).await?) }).await
    }

    /// The log reached `size` through this node's write.
    fn wrote(&self, size: i64) {
        if let Some(replica) = &self.replica {
            replica.wrote(size);
        }
    }

    fn replica_stats(&self) -> Option<crate::store::ReplicaStats> {
        self.replica.as_ref().map(|r| r.stats())
    }

    /// With several nodes on one database, the one holding the sequencer lock signs
    /// checkpoints and the others skip (`None`); the signer then takes the write lock, so the
    /// tree it signs is the one the committed events make.
    async fn begin_sequencing(&self) -> Result<Option<sqlx::Transaction<'static, Postgres>>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let leader: bool =
            sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)").bind(SEQUENCER_LOCK).fetch_one(&mut *tx).await?;
        if !leader {
            return Ok(None);
        }
        lock_for_writing(&mut tx).await?;
        Ok(Some(tx))
    }
}

type DB = Postgres;
/// Orders ids by their bytes, the order a mirror keeps them in: PostgreSQL sorts text by the database's locale unless told to compare bytes.
const BYTE_ORDER: &str = r#" COLLATE "C""#;
type ThisStore = PgStore;

// The shared SQL, compiled for this backend's `DB` and `ThisStore` (see sql/mod.rs).
#[allow(clippy::duplicate_mod, reason = "sql/ is mounted once per backend on purpose")]
#[path = "sql/mod.rs"]
mod sql;

/// Takes the write lock, waiting at most `LOCK_WAIT` (then `lock_not_available`: Unavailable).
async fn lock_for_writing(tx: &mut sqlx::Transaction<'static, Postgres>) -> Result<(), sqlx::Error> {
    let wait = format!("SET LOCAL lock_timeout = '{}ms'", super::error::LOCK_WAIT.as_millis());
    sqlx::query(sqlx::AssertSqlSafe(wait)).execute(&mut **tx).await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(WRITE_LOCK).execute(&mut **tx).await?;
    Ok(())
}
