//! The SQL both databases share, as ordinary Rust. Each backend module (`sqlite.rs`,
//! `postgres.rs`) names its sqlx database type `DB` and its store type `ThisStore`, and mounts
//! this folder as its own `sql` module: every function here is compiled once per backend with
//! concrete types, so there are no trait bounds over `sqlx::Database` to spell out and no
//! macro bodies that rustfmt and readers cannot follow. Both drivers accept `$n` placeholders,
//! `LIKE … ESCAPE`, multi-row `INSERT … VALUES` and the same row shapes; where the dialects
//! really differ (connection set-up, locks, column types in migrations) the backend modules
//! and migrations say so.

use super::{BYTE_ORDER, DB, ThisStore};
use crate::domain::code::Code;
use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Utc;
use sqlx::QueryBuilder;
use sqlx::types::Json;

use crate::domain::authority::{Authority, AuthorityGraph, Delegation};
use crate::domain::authorization::Authorization;
use crate::domain::certificate::IssuerKey;
use crate::domain::committee::{Committee, CommitteeRecord};
use crate::domain::log::{Disclosure, Event};
use crate::domain::publish::{Actor, Operation, Role, Violation};
use crate::domain::sanction::Sanction;
use crate::store::StoreError;
use crate::store::prelude::*;
use crate::store::rows::{
    self, AuthorityRow, AuthorizationRecordRow, CheckpointRow, CommitteeRow, DelegationRow, EventRow, IssuerKeyRow,
    KEY_COLUMNS, SanctionRow, TOKEN_COLUMNS, TokenRow,
};
use crate::store::{
    AuthorityFilter, CommitteeRowFilter, Counts, Dataset, EventFilter, Idempotency, OperationSource, SanctionRowFilter,
    StoreResult, StoredCheckpoint, TokenInfo, WriteOutcome, contains_pattern, region_pattern, search_terms,
};

mod certificates;
mod complaints;
mod draws;
mod export;
mod log;
mod notices;
mod reads;
mod sessions;
mod supervisors;
mod tokens;
mod watches;
mod writes;

/// Rows per multi-row INSERT: well under both databases' bound-parameter limits.
const INSERT_CHUNK: usize = 500;
/// Operations checked and written together in one step of a write: memory holds one chunk's
/// loaded state, rows and events, whatever the size of the file.
const EXECUTE_CHUNK: usize = 5_000;

type Conn = <DB as sqlx::Database>::Connection;

/// Rows of `select` whose `column` is one of `values`, in batched `IN` queries.
async fn fetch_in<T>(
    conn: &mut Conn,
    select: &str,
    column: &str,
    values: &std::collections::HashSet<String>,
    order: &str,
) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> sqlx::FromRow<'r, <DB as sqlx::Database>::Row> + Send + Unpin,
{
    let values: Vec<&String> = values.iter().collect();
    let mut out = Vec::new();
    for chunk in values.chunks(INSERT_CHUNK) {
        let mut qb = QueryBuilder::<DB>::new(format!("{select} WHERE {column} IN ("));
        let mut list = qb.separated(", ");
        for v in chunk {
            list.push_bind((*v).clone());
        }
        qb.push(")");
        qb.push(order);
        out.extend(qb.build_query_as::<T>().fetch_all(&mut *conn).await?);
    }
    Ok(out)
}
