//! The store's error: what went wrong in persistence terms, nothing of HTTP. The HTTP layer
//! maps each kind to a status (`error.rs`), the command line to a message.

use crate::domain::publish::{LineViolation, Violation};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A batch broke publishing rules: nothing was written; every bad operation is listed
    /// with its 1-based position.
    #[error("{} operation(s) rejected", .0.len())]
    Rejected(Vec<LineViolation>),
    /// One rule refused a request outside a batch (an idempotency key reused for another
    /// request, a token for an unknown authority).
    #[error("{}: {}", .0.field, .0.message_en)]
    Refused(Violation),
    /// The database cannot be reached, or did not answer in time: worth retrying.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The database holds something this version cannot read.
    #[error("the database holds unreadable data: {0}")]
    Corrupt(String),
    /// The store cannot be opened as configured (a bad URL, a missing file).
    #[error("{0}")]
    Config(String),
    /// Anything else: a bug or an unexpected database failure. A unique-key violation under
    /// the write lock lands here: no concurrent writer can cause it, so it is not a conflict.
    #[error("database failure: {0}")]
    Internal(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// How long a writer waits for the write lock (and a request for a database connection) before
/// the store answers `Unavailable`: a busy registry says so quickly instead of hanging.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

impl StoreError {
    pub fn corrupt(what: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt(what.to_string())
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        use sqlx::Error as E;
        match &e {
            E::PoolTimedOut | E::PoolClosed | E::Io(_) | E::Tls(_) | E::WorkerCrashed => {
                StoreError::Unavailable(e.to_string())
            }
            // The write lock stayed held past the wait: SQLite's SQLITE_BUSY / SQLITE_LOCKED (any
            // extended code), PostgreSQL's lock_not_available (lock_timeout).
            E::Database(d) if d.code().is_some_and(|c| lock_busy(&c)) => StoreError::Unavailable(e.to_string()),
            E::ColumnDecode { .. } | E::Decode(_) | E::ColumnNotFound(_) | E::TypeNotFound { .. } => {
                StoreError::Corrupt(e.to_string())
            }
            _ => StoreError::Internal(e.to_string()),
        }
    }
}

fn lock_busy(code: &str) -> bool {
    code == "55P03" || code.parse::<u32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> StoreError {
        StoreError::Internal(format!("migration failed: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_are_unavailable_and_unreadable_rows_corrupt() {
        assert!(matches!(StoreError::from(sqlx::Error::PoolTimedOut), StoreError::Unavailable(_)));
        assert!(matches!(StoreError::from(sqlx::Error::ColumnNotFound("x".into())), StoreError::Corrupt(_)));
        assert!(matches!(StoreError::from(sqlx::Error::RowNotFound), StoreError::Internal(_)));
    }
}
