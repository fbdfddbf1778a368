//! The SQL both databases share. Both accept `$n` placeholders, `LIKE … ESCAPE`, and the
//! same DDL shape, so each query is written once; `sql_store!` instantiates the [`Store`]
//! implementation for a concrete sqlx database type. Where the dialects really differ
//! (connection set-up, column types in migrations) the backend modules say so.
//!
//! [`Store`]: super::Store

macro_rules! sql_store {
    ($store:ty, $db:ty) => {
        use std::collections::BTreeMap;
        use std::sync::Arc;

        use chrono::Utc;
        use sqlx::QueryBuilder;
        use sqlx::types::Json;

        use $crate::domain::authority::{Authority, AuthorityGraph, Delegation};
        use $crate::domain::authorization::Authorization;
        use $crate::domain::committee::{Committee, CommitteeRecord};
        use $crate::domain::sanction::Sanction;
        use $crate::store::rows::{self, AuthorityRow, AuthorizationRecordRow, CommitteeRow, DelegationRow, SanctionRow};
        use $crate::domain::publish::{Actor, Operation, Role, Violation};
        use $crate::error::AppError;
        use $crate::store::{
            AuthorityFilter, CommitteeRowFilter, Counts, Dataset, Event, EventFilter, Idempotency, Progress,
            SanctionRowFilter, Store, StoreResult, TokenCheck, TokenInfo, WriteOutcome, contains_pattern, region_pattern,
        };

        /// Rows per multi-row INSERT: well under both databases' bound-parameter limits.
        const INSERT_CHUNK: usize = 500;

        #[async_trait::async_trait]
        impl Store for $store {
            fn backend(&self) -> &'static str {
                Self::BACKEND
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn counts(&self) -> StoreResult<Counts> {
                let count = |table: &'static str| {
                    let pool = self.pool.clone();
                    async move {
                        let n: (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"))).fetch_one(&pool).await?;
                        Ok::<i64, sqlx::Error>(n.0)
                    }
                };
                Ok(Counts {
                    authorities: count("authorities").await?,
                    committees: count("committees").await?,
                    authorizations: count("authorizations").await?,
                    sanctions: count("sanctions").await?,
                })
            }

            async fn import_dataset(&self, ds: &Dataset, credential: &str) -> StoreResult<()> {
                self.import_dataset_impl(ds, credential).await
            }

            async fn execute(
                &self,
                actor: &Actor,
                ops: &[Operation],
                idempotency: Option<&Idempotency>,
                progress: Option<Progress<'_>>,
            ) -> StoreResult<WriteOutcome> {
                self.execute_impl(actor, ops, idempotency, progress).await
            }

            async fn events_after(&self, filter: &EventFilter, after: Option<i64>, limit: u32) -> StoreResult<Vec<Event>> {
                self.events_after_impl(filter, after, limit).await
            }

            async fn create_token(&self, authority_id: &str, role: Role, label: Option<&str>, created_by: &str) -> StoreResult<(TokenInfo, String)> {
                self.create_token_impl(authority_id, role, label, created_by).await
            }

            async fn authenticate(&self, secret: &str) -> StoreResult<TokenCheck> {
                self.authenticate_impl(secret).await
            }

            async fn tokens(&self, authority_id: &str) -> StoreResult<Vec<TokenInfo>> {
                self.tokens_impl(authority_id).await
            }

            async fn revoke_token(&self, authority_id: &str, token_id: &str) -> StoreResult<Option<TokenInfo>> {
                self.revoke_token_impl(authority_id, token_id).await
            }

            async fn keys(&self) -> StoreResult<std::sync::Arc<Vec<$crate::domain::certificate::IssuerKey>>> {
                Ok(std::sync::Arc::new(self.keys_impl().await?))
            }

            async fn registered_certificate(&self, number: &str) -> StoreResult<Option<$crate::domain::verification::RegisteredCertificate>> {
                self.registered_certificate_impl(number).await
            }

            async fn certificate(&self, number: &str) -> StoreResult<Option<($crate::domain::verification::RegisteredCertificate, serde_json::Value)>> {
                self.certificate_impl(number).await
            }

            async fn certificate_states(&self, status_authority: Option<&str>) -> StoreResult<Vec<$crate::store::CertificateStatus>> {
                self.certificate_states_impl(status_authority).await
            }

            async fn log_size(&self) -> StoreResult<i64> {
                self.log_size_impl().await
            }

            async fn log_tiles(&self, keys: &[$crate::tlog::tiles::TileKey]) -> StoreResult<$crate::store::TileMap> {
                self.log_tiles_impl(keys).await
            }

            async fn latest_checkpoint(&self) -> StoreResult<Option<$crate::store::StoredCheckpoint>> {
                self.latest_checkpoint_impl().await
            }

            async fn checkpoint_at(&self, size: u64) -> StoreResult<Option<$crate::store::StoredCheckpoint>> {
                self.checkpoint_at_impl(size).await
            }

            async fn sign_checkpoint(&self, sign: &$crate::store::CheckpointSigner<'_>) -> StoreResult<Option<$crate::store::StoredCheckpoint>> {
                self.sign_checkpoint_impl(sign).await
            }

            async fn disclosures(&self, start: i64, end: i64) -> StoreResult<Vec<(i64, $crate::domain::log::Disclosure)>> {
                self.disclosures_impl(start, end).await
            }

            async fn erase_disclosures(&self, seq: i64) -> StoreResult<u64> {
                self.erase_disclosures_impl(seq).await
            }

            async fn authority_graph(&self) -> StoreResult<Arc<AuthorityGraph>> {
                let authorities: Vec<AuthorityRow> =
                    sqlx::query_as("SELECT id, name, level, region, parent_id FROM authorities").fetch_all(&self.pool).await?;
                let delegations: Vec<DelegationRow> = sqlx::query_as(
                    "SELECT id, authority_id, delegated_by, series, specialties, levels, valid_from, valid_until, document_number FROM delegations",
                )
                .fetch_all(&self.pool)
                .await?;
                let authorities = authorities.into_iter().map(Authority::try_from).collect::<Result<_, _>>()?;
                Ok(Arc::new(AuthorityGraph::new(authorities, delegations.into_iter().map(Delegation::from).collect())))
            }

            async fn authorities_after(&self, filter: &AuthorityFilter, after: Option<&str>, limit: u32) -> StoreResult<Vec<Authority>> {
                let mut qb = QueryBuilder::<$db>::new("SELECT id, name, level, region, parent_id FROM authorities WHERE 1 = 1");
                if let Some(after) = after {
                    qb.push(" AND id > ").push_bind(after.to_string());
                }
                if let Some(pattern) = filter.region.as_deref().and_then(region_pattern) {
                    qb.push(" AND region LIKE ").push_bind(pattern);
                }
                if let Some(parent) = &filter.parent_id {
                    qb.push(" AND parent_id = ").push_bind(parent.clone());
                }
                qb.push(" ORDER BY id LIMIT ").push_bind(i64::from(limit));
                let rows: Vec<AuthorityRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                rows.into_iter().map(Authority::try_from).collect()
            }

            async fn committees_after(&self, filter: &CommitteeRowFilter, after: Option<&str>, limit: u32) -> StoreResult<Vec<CommitteeRecord>> {
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {} WHERE 1 = 1", rows::COMMITTEE_COLUMNS));
                if let Some(after) = after {
                    qb.push(" AND id > ").push_bind(after.to_string());
                }
                if let Some(q) = &filter.q {
                    let pattern = contains_pattern(q);
                    qb.push(" AND (name LIKE ").push_bind(pattern.clone()).push(" ESCAPE '\\' OR unit_name LIKE ").push_bind(pattern).push(" ESCAPE '\\')");
                }
                if let Some(pattern) = filter.region.as_deref().and_then(region_pattern) {
                    qb.push(" AND region LIKE ").push_bind(pattern);
                }
                if let Some(authority) = &filter.authority_id {
                    qb.push(" AND authority_id = ").push_bind(authority.clone());
                }
                if let Some(series) = &filter.series {
                    qb.push(" AND EXISTS (SELECT 1 FROM authorizations a WHERE a.committee_id = committees.id AND a.series = ")
                        .push_bind(series.clone())
                        .push(")");
                }
                qb.push(" ORDER BY id LIMIT ").push_bind(i64::from(limit));
                let rows: Vec<CommitteeRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                let committees = rows.into_iter().map(Committee::try_from).collect::<Result<Vec<_>, _>>()?;
                self.records_for(committees).await
            }

            async fn committee(&self, id: &str) -> StoreResult<Option<Arc<CommitteeRecord>>> {
                let row: Option<CommitteeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {} WHERE id = $1", rows::COMMITTEE_COLUMNS)))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                let Some(row) = row else { return Ok(None) };
                Ok(self.records_for(vec![Committee::try_from(row)?]).await?.pop().map(Arc::new))
            }

            async fn sanctions_after(&self, filter: &SanctionRowFilter, after: Option<&str>, limit: u32) -> StoreResult<Vec<Sanction>> {
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {} WHERE 1 = 1", rows::SANCTION_COLUMNS));
                if let Some(after) = after {
                    qb.push(" AND s.id > ").push_bind(after.to_string());
                }
                if let Some(kind) = filter.subject_kind {
                    qb.push(" AND s.subject_kind = ").push_bind(kind.code());
                }
                if let Some(committee) = &filter.committee_id {
                    qb.push(" AND s.subject_kind = 'committee' AND s.subject_id = ").push_bind(committee.clone());
                }
                if let Some(pattern) = filter.region.as_deref().and_then(region_pattern) {
                    qb.push(" AND s.region LIKE ").push_bind(pattern);
                }
                if let Some(q) = &filter.q {
                    let pattern = contains_pattern(q);
                    qb.push(" AND (s.subject_name LIKE ")
                        .push_bind(pattern.clone())
                        .push(" ESCAPE '\\' OR s.summary LIKE ")
                        .push_bind(pattern.clone())
                        .push(" ESCAPE '\\' OR s.document_number LIKE ")
                        .push_bind(pattern)
                        .push(" ESCAPE '\\')");
                }
                qb.push(" ORDER BY s.id LIMIT ").push_bind(i64::from(limit));
                let rows: Vec<SanctionRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                rows.into_iter().map(Sanction::try_from).collect()
            }
        }

        impl $store {
            /// Attaches authorizations (with history) and committee sanctions to committees,
            /// in two queries whatever the number of committees.
            async fn records_for(&self, committees: Vec<Committee>) -> StoreResult<Vec<CommitteeRecord>> {
                if committees.is_empty() {
                    return Ok(Vec::new());
                }
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {} WHERE a.committee_id IN (", rows::AUTHORIZATION_COLUMNS));
                let mut ids = qb.separated(", ");
                for c in &committees {
                    ids.push_bind(c.id.clone());
                }
                qb.push(") ORDER BY a.committee_id, a.id, r.seq");
                let auth_rows: Vec<AuthorizationRecordRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                let mut authorizations = rows::fold_authorizations(auth_rows)?;

                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {} WHERE s.subject_kind = 'committee' AND s.subject_id IN (", rows::SANCTION_COLUMNS));
                let mut ids = qb.separated(", ");
                for c in &committees {
                    ids.push_bind(c.id.clone());
                }
                qb.push(") ORDER BY s.effective_from, s.id");
                let sanction_rows: Vec<SanctionRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                let mut sanctions: BTreeMap<String, Vec<Sanction>> = BTreeMap::new();
                for row in sanction_rows {
                    let s = Sanction::try_from(row)?;
                    sanctions.entry(s.subject.id.clone().unwrap_or_default()).or_default().push(s);
                }
                Ok(committees
                    .into_iter()
                    .map(|c| CommitteeRecord {
                        authorizations: authorizations.remove(&c.id).unwrap_or_default(),
                        sanctions: sanctions.remove(&c.id).unwrap_or_default(),
                        committee: c,
                    })
                    .collect())
            }
        }
    };
}

pub(crate) use sql_store;
