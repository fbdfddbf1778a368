//! Persistence. One [`Store`] trait; an SQLite and a PostgreSQL implementation that share
//! their SQL (see `sql.rs`), chosen at start-up from the database URL.

use std::sync::Arc;

use async_trait::async_trait;

use crate::domain::Date;
use crate::domain::authority::{Authority, AuthorityGraph, Delegation};
use crate::domain::authorization::Authorization;
use crate::domain::committee::{Committee, CommitteeRecord};
use crate::domain::sanction::{Sanction, SubjectKind};
use crate::error::AppError;

mod postgres;
mod rows;
mod sql;
mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

pub type StoreResult<T> = Result<T, AppError>;

/// Filters the database can apply itself; derived-state filters (status, series, level,
/// as-of dates) are applied above it on the derived records.
#[derive(Debug, Clone, Default)]
pub struct CommitteeRowFilter {
    /// Substring of the committee's or the organizing unit's name.
    pub q: Option<String>,
    /// A 6-digit region code; committees located in its subtree.
    pub region: Option<String>,
    /// Approved by this authority.
    pub authority_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct SanctionRowFilter {
    pub subject_kind: Option<SubjectKind>,
    pub committee_id: Option<String>,
    pub region: Option<String>,
    pub q: Option<String>,
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
}

/// How many rows of each kind the registry holds.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct Counts {
    pub authorities: i64,
    pub committees: i64,
    pub authorizations: i64,
    pub sanctions: i64,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Which database this is, for logs and `/readyz`.
    fn backend(&self) -> &'static str;

    /// Checks the database answers.
    async fn ping(&self) -> StoreResult<()>;

    async fn counts(&self) -> StoreResult<Counts>;

    /// Writes a whole dataset in one transaction.
    async fn import_dataset(&self, dataset: &Dataset) -> StoreResult<()>;

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

    async fn committee(&self, id: &str) -> StoreResult<Option<CommitteeRecord>>;

    async fn sanctions_after(
        &self,
        filter: &SanctionRowFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Sanction>>;
}

pub type DynStore = Arc<dyn Store>;

/// Opens the store a database URL names, creating the SQLite file when asked, and runs
/// the migrations.
pub async fn connect(url: &str, create_if_missing: bool) -> StoreResult<DynStore> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(url).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url, create_if_missing).await?))
    } else {
        Err(AppError::Config(format!(
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

/// A `LIKE` pattern matching every region code inside `region`; `None` for nationwide.
pub(crate) fn region_pattern(region: &str) -> Option<String> {
    crate::domain::catalog::region_prefix(region).map(|p| format!("{p}%"))
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
