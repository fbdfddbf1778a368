//! The embedded default: one SQLite file in WAL mode.

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Pool, Sqlite};

use crate::store::{LockWaits, StoreError, StoreResult};

pub struct SqliteStore {
    pool: Pool<Sqlite>,
    lock_waits: LockWaits,
}

impl SqliteStore {
    pub const BACKEND: &'static str = "sqlite";

    /// Opens (and migrates) the database. A missing file is created only when asked: a typo
    /// in a path must not silently start an empty registry.
    pub async fn connect(url: &str, create_if_missing: bool) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::Config(format!("SQLite 地址无效 / invalid SQLite URL: {e}")))?;
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if !in_memory {
            let path = options.get_filename().to_path_buf();
            if !path.exists() {
                if !create_if_missing {
                    return Err(StoreError::Config(format!(
                        "数据库文件不存在：{0}（先运行 `zhicheng migrate` 或 `zhicheng demo`）/ the database file {0} does not exist (run `zhicheng migrate` or `zhicheng demo` first)",
                        path.display()
                    )));
                }
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| StoreError::Config(format!("cannot create {}: {e}", dir.display())))?;
                }
            }
        }
        // 16 KiB pages: a certificate row (≈2.5 KB of credential) packs six to a page instead of
        // one to a 4 KiB page. Takes effect when the file is created; existing files keep theirs.
        let options = options
            .page_size(16_384)
            .create_if_missing(create_if_missing)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(super::error::LOCK_WAIT)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(if in_memory { 1 } else { 8 })
            .acquire_timeout(super::error::LOCK_WAIT)
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        let store = SqliteStore { pool, lock_waits: LockWaits::default() };
        store.catch_up_log().await?;
        store.fill_search_keys().await?;
        Ok(store)
    }
}

impl SqliteStore {
    /// Writes take the database's write lock at once (`BEGIN IMMEDIATE`): a writer never
    /// has to give up half-way because another one got in first, and event numbers stay dense.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Sqlite>, sqlx::Error> {
        let asked = std::time::Instant::now();
        let tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        self.lock_waits.record(asked.elapsed());
        Ok(tx)
    }

    /// No replicas for SQLite: every read is on the one file.
    async fn lag_tolerant<T, Fut>(&self, read: impl Fn(Pool<Sqlite>) -> Fut) -> StoreResult<T>
    where
        Fut: std::future::Future<Output = StoreResult<T>>,
    {
        read(self.pool.clone()).await
    }

    async fn begin_lag_tolerant_snapshot(&self) -> StoreResult<sqlx::Transaction<'static, Sqlite>> {
        Ok(self.begin_snapshot().await?)
    }

    fn wrote(&self, _size: i64) {}

    fn replica_stats(&self) -> Option<crate::store::ReplicaStats> {
        None
    }

    /// A read transaction: in WAL mode it sees the database as of its first read, whatever
    /// is written meanwhile.
    async fn begin_snapshot(&self) -> Result<sqlx::Transaction<'static, Sqlite>, sqlx::Error> {
        self.pool.begin_with("BEGIN DEFERRED").await
    }

    /// One process owns an SQLite file: the sequencer just takes the write lock.
    async fn begin_sequencing(&self) -> Result<Option<sqlx::Transaction<'static, Sqlite>>, sqlx::Error> {
        self.begin_write().await.map(Some)
    }
}

type DB = Sqlite;
/// Orders ids by their bytes, the order a mirror keeps them in: SQLite compares text by its bytes (BINARY) unless told otherwise.
const BYTE_ORDER: &str = "";
type ThisStore = SqliteStore;

// The shared SQL, compiled for this backend's `DB` and `ThisStore` (see sql/mod.rs).
#[allow(clippy::duplicate_mod, reason = "sql/ is mounted once per backend on purpose")]
#[path = "sql/mod.rs"]
mod sql;
