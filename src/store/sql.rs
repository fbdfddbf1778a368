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
        use $crate::store::{
            AuthorityFilter, CommitteeRowFilter, Counts, Dataset, SanctionRowFilter, Store, StoreResult,
            contains_pattern, region_pattern,
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

            async fn import_dataset(&self, ds: &Dataset) -> StoreResult<()> {
                let now = Utc::now();
                let mut tx = self.pool.begin().await?;
                for chunk in ds.authorities.chunks(INSERT_CHUNK) {
                    let mut qb = QueryBuilder::<$db>::new("INSERT INTO authorities (id, name, level, region, parent_id, logged_at) ");
                    qb.push_values(chunk, |mut b, a: &Authority| {
                        b.push_bind(&a.id).push_bind(&a.name).push_bind(a.level.code()).push_bind(&a.region).push_bind(&a.parent_id).push_bind(now);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                for chunk in ds.delegations.chunks(INSERT_CHUNK) {
                    let mut qb = QueryBuilder::<$db>::new(
                        "INSERT INTO delegations (id, authority_id, delegated_by, series, specialties, levels, valid_from, valid_until, document_number, logged_at) ",
                    );
                    qb.push_values(chunk, |mut b, d: &Delegation| {
                        b.push_bind(&d.id)
                            .push_bind(&d.authority_id)
                            .push_bind(&d.delegated_by)
                            .push_bind(&d.series)
                            .push_bind(Json(&d.specialties))
                            .push_bind(Json(&d.levels))
                            .push_bind(d.valid_from)
                            .push_bind(d.valid_until)
                            .push_bind(&d.document_number)
                            .push_bind(now);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                for chunk in ds.committees.chunks(INSERT_CHUNK) {
                    let mut qb = QueryBuilder::<$db>::new(
                        "INSERT INTO committees (id, name, kind, unit_name, unit_credit_code, authority_id, region, domains, contact, logged_at) ",
                    );
                    qb.push_values(chunk, |mut b, c: &Committee| {
                        b.push_bind(&c.id)
                            .push_bind(&c.name)
                            .push_bind(c.kind.code())
                            .push_bind(&c.organizing_unit.name)
                            .push_bind(&c.organizing_unit.credit_code)
                            .push_bind(&c.authority_id)
                            .push_bind(&c.region)
                            .push_bind(Json(&c.domains))
                            .push_bind(&c.contact)
                            .push_bind(now);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                for chunk in ds.authorizations.chunks(INSERT_CHUNK) {
                    let mut qb = QueryBuilder::<$db>::new("INSERT INTO authorizations (id, committee_id, granted_by, document_number, logged_at) ");
                    qb.push_values(chunk, |mut b, a: &Authorization| {
                        b.push_bind(&a.id).push_bind(&a.committee_id).push_bind(&a.granted_by).push_bind(&a.document_number).push_bind(now);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                let records: Vec<_> = ds
                    .authorizations
                    .iter()
                    .flat_map(|a| a.history.iter().enumerate().map(move |(seq, r)| (a.id.as_str(), seq as i64, r)))
                    .collect();
                for chunk in records.chunks(INSERT_CHUNK) {
                    let mut qb = QueryBuilder::<$db>::new(
                        "INSERT INTO authorization_records (authorization_id, seq, action, effective_on, document_number, note, terms, logged_at) ",
                    );
                    qb.push_values(chunk, |mut b, (id, seq, r)| {
                        b.push_bind(*id)
                            .push_bind(*seq)
                            .push_bind(r.action.code())
                            .push_bind(r.effective_on)
                            .push_bind(&r.document_number)
                            .push_bind(&r.note)
                            .push_bind(r.terms.as_ref().map(Json))
                            .push_bind(r.logged_at);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                for chunk in ds.sanctions.chunks(INSERT_CHUNK) {
                    let mut qb = QueryBuilder::<$db>::new(
                        "INSERT INTO sanctions (id, subject_kind, subject_id, subject_name, measure, region, effective_from, effective_until, \
                         void_from, decided_by, document_number, legal_basis, summary, logged_at) ",
                    );
                    qb.push_values(chunk, |mut b, s: &Sanction| {
                        b.push_bind(&s.id)
                            .push_bind(s.subject.kind.code())
                            .push_bind(&s.subject.id)
                            .push_bind(&s.subject.name)
                            .push_bind(s.measure.code())
                            .push_bind(&s.region)
                            .push_bind(s.effective_from)
                            .push_bind(s.effective_until)
                            .push_bind(s.void_from)
                            .push_bind(&s.decided_by)
                            .push_bind(&s.document_number)
                            .push_bind(&s.legal_basis)
                            .push_bind(&s.summary)
                            .push_bind(s.logged_at);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                let lifts: Vec<_> = ds.sanctions.iter().filter_map(|s| s.lift.as_ref().map(|l| (s.id.as_str(), l))).collect();
                for chunk in lifts.chunks(INSERT_CHUNK) {
                    let mut qb = QueryBuilder::<$db>::new("INSERT INTO sanction_lifts (sanction_id, effective_on, document_number, reason, logged_at) ");
                    qb.push_values(chunk, |mut b, (id, l)| {
                        b.push_bind(*id).push_bind(l.effective_on).push_bind(&l.document_number).push_bind(&l.reason).push_bind(l.logged_at);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
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
                qb.push(" ORDER BY id LIMIT ").push_bind(i64::from(limit));
                let rows: Vec<CommitteeRow> = qb.build_query_as().fetch_all(&self.pool).await?;
                let committees = rows.into_iter().map(Committee::try_from).collect::<Result<Vec<_>, _>>()?;
                self.records_for(committees).await
            }

            async fn committee(&self, id: &str) -> StoreResult<Option<CommitteeRecord>> {
                let row: Option<CommitteeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {} WHERE id = $1", rows::COMMITTEE_COLUMNS)))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
                let Some(row) = row else { return Ok(None) };
                Ok(self.records_for(vec![Committee::try_from(row)?]).await?.pop())
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
