//! Reads of the registry: authorities, committees with their records, sanctions.

use super::*;

#[async_trait::async_trait]
impl RegistryReads for ThisStore {
    fn backend(&self) -> &'static str {
        Self::BACKEND
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn stats(&self) -> crate::store::StoreStats {
        let (write_locks, write_lock_wait_seconds) = self.lock_waits.totals();
        crate::store::StoreStats {
            pool_connections: self.pool.size(),
            pool_idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            caches: vec![],
            write_locks,
            write_lock_wait_seconds,
            replica: self.replica_stats(),
        }
    }

    async fn counts(&self) -> StoreResult<Counts> {
        self.lag_tolerant(|pool| async move {
            let count = |table: &'static str| {
                let pool = pool.clone();
                async move {
                    let n: (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                        .fetch_one(&pool)
                        .await?;
                    Ok::<i64, sqlx::Error>(n.0)
                }
            };
            Ok(Counts {
                authorities: count("authorities").await?,
                committees: count("committees").await?,
                authorizations: count("authorizations").await?,
                sanctions: count("sanctions").await?,
            })
        })
        .await
    }

    async fn authority_graph(&self) -> StoreResult<Arc<AuthorityGraph>> {
        let mut conn = self.pool.acquire().await?;
        Ok(Arc::new(load_graph(&mut conn).await?))
    }

    async fn authorities_after(
        &self,
        filter: &AuthorityFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Authority>> {
        let query = || {
            let mut qb =
                QueryBuilder::<DB>::new("SELECT id, name, level, region, parent_id FROM authorities WHERE 1 = 1");
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
            qb
        };
        self.lag_tolerant(|pool| async move {
            let rows: Vec<AuthorityRow> = query().build_query_as().fetch_all(&pool).await?;
            rows.into_iter().map(Authority::try_from).collect()
        })
        .await
    }

    async fn committees_after(
        &self,
        filter: &CommitteeRowFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<CommitteeRecord>> {
        let query = || {
            let mut qb = QueryBuilder::<DB>::new(format!("SELECT {} WHERE 1 = 1", rows::COMMITTEE_COLUMNS));
            if let Some(after) = after {
                qb.push(" AND id > ").push_bind(after.to_string());
            }
            // Each word of the search must match one of the fields; domains are matched in their
            // JSON text, so `example.cn` finds `www.example.cn`; pinyin in the names' search key.
            for term in filter.q.as_deref().map(search_terms).unwrap_or_default() {
                let pattern = contains_pattern(term);
                qb.push(" AND (name LIKE ")
                    .push_bind(pattern.clone())
                    .push(" ESCAPE '\\' OR unit_name LIKE ")
                    .push_bind(pattern.clone())
                    .push(" ESCAPE '\\' OR unit_credit_code = ")
                    .push_bind(term.to_uppercase())
                    .push(" OR CAST(domains AS TEXT) LIKE ")
                    .push_bind(pattern.to_lowercase())
                    .push(" ESCAPE '\\' OR name_pinyin LIKE ")
                    .push_bind(pattern.to_lowercase())
                    .push(" ESCAPE '\\')");
            }
            if let Some(pattern) = filter.region.as_deref().and_then(region_pattern) {
                qb.push(" AND region LIKE ").push_bind(pattern);
            }
            if let Some(authority) = &filter.authority_id {
                qb.push(" AND authority_id = ").push_bind(authority.clone());
            }
            if let Some(series) = &filter.series {
                qb.push(
                    " AND EXISTS (SELECT 1 FROM authorizations a WHERE a.committee_id = committees.id AND a.series = ",
                )
                .push_bind(series.clone())
                .push(")");
            }
            qb.push(" ORDER BY id LIMIT ").push_bind(i64::from(limit));
            qb
        };
        self.lag_tolerant(|pool| async move {
            let mut conn = pool.acquire().await?;
            let rows: Vec<CommitteeRow> = query().build_query_as().fetch_all(&mut *conn).await?;
            let committees = rows.into_iter().map(Committee::try_from).collect::<Result<Vec<_>, _>>()?;
            records_for(&mut conn, committees).await
        })
        .await
    }

    async fn committee(&self, id: &str) -> StoreResult<Option<Arc<CommitteeRecord>>> {
        let row: Option<CommitteeRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {} WHERE id = $1", rows::COMMITTEE_COLUMNS)))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else { return Ok(None) };
        let mut conn = self.pool.acquire().await?;
        Ok(records_for(&mut conn, vec![Committee::try_from(row)?]).await?.pop().map(Arc::new))
    }

    async fn sanctions_after(
        &self,
        filter: &SanctionRowFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Sanction>> {
        let query = || {
            let mut qb = QueryBuilder::<DB>::new(format!("SELECT {} WHERE 1 = 1", rows::SANCTION_COLUMNS));
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
            qb
        };
        self.lag_tolerant(|pool| async move {
            let rows: Vec<SanctionRow> = query().build_query_as().fetch_all(&pool).await?;
            rows.into_iter().map(Sanction::try_from).collect()
        })
        .await
    }

    async fn sessions_after(
        &self,
        filter: &crate::store::SessionFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<crate::domain::session::EvaluationSession>> {
        self.sessions_page(filter, after, limit).await
    }

    async fn session(&self, id: &str) -> StoreResult<Option<crate::domain::session::EvaluationSession>> {
        self.session_by_id(id).await
    }

    async fn visits(&self, session_id: &str) -> StoreResult<Vec<crate::domain::supervisor::Visit>> {
        self.visits_of_session(session_id).await
    }

    async fn draw_plan(
        &self,
        id: &str,
    ) -> StoreResult<Option<(crate::domain::draw::DrawPlan, Option<crate::store::DrawSeed>)>> {
        self.plan_by_id(id).await
    }

    async fn draw_plans_after(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<(crate::domain::draw::DrawPlan, Option<crate::store::DrawSeed>)>> {
        self.plans_page(after, limit).await
    }

    async fn inspections_after(
        &self,
        filter: &crate::store::InspectionFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<crate::domain::draw::Inspection>> {
        self.inspections_page(filter, after, limit).await
    }

    async fn notices_after(
        &self,
        filter: &crate::store::NoticeFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<crate::domain::notice::Notice>> {
        self.notices_page(filter, after, limit).await
    }

    async fn last_inspected(
        &self,
        committee_ids: &std::collections::HashSet<String>,
    ) -> StoreResult<Vec<(String, crate::domain::Date)>> {
        self.last_inspected_of(committee_ids).await
    }
}

/// The authority graph: every authority and delegation.
pub(super) async fn load_graph(conn: &mut Conn) -> StoreResult<AuthorityGraph> {
    let authorities: Vec<AuthorityRow> =
        sqlx::query_as("SELECT id, name, level, region, parent_id FROM authorities").fetch_all(&mut *conn).await?;
    let delegations: Vec<DelegationRow> = sqlx::query_as(
        "SELECT id, authority_id, delegated_by, series, specialties, levels, valid_from, valid_until, document_number FROM delegations",
    )
    .fetch_all(&mut *conn)
    .await?;
    let authorities = authorities.into_iter().map(Authority::try_from).collect::<Result<_, _>>()?;
    Ok(AuthorityGraph::new(authorities, delegations.into_iter().map(Delegation::from).collect()))
}

/// The records of the committees with these ids (in id order), with their authorizations and
/// committee sanctions, in a few batched queries whatever their number.
pub(super) async fn load_committee_records(
    conn: &mut Conn,
    ids: &std::collections::HashSet<String>,
) -> StoreResult<Vec<CommitteeRecord>> {
    let rows: Vec<CommitteeRow> =
        fetch_in(conn, &format!("SELECT {}", rows::COMMITTEE_COLUMNS), "id", ids, " ORDER BY id").await?;
    let committees = rows.into_iter().map(Committee::try_from).collect::<Result<Vec<_>, _>>()?;
    records_for(conn, committees).await
}

/// Attaches authorizations (with history) and committee sanctions to committees.
async fn records_for(conn: &mut Conn, committees: Vec<Committee>) -> StoreResult<Vec<CommitteeRecord>> {
    if committees.is_empty() {
        return Ok(Vec::new());
    }
    let ids: std::collections::HashSet<String> = committees.iter().map(|c| c.id.clone()).collect();
    let auth_rows: Vec<AuthorizationRecordRow> = fetch_in(
        conn,
        &format!("SELECT {}", rows::AUTHORIZATION_COLUMNS),
        "a.committee_id",
        &ids,
        " ORDER BY a.committee_id, a.id, r.seq",
    )
    .await?;
    let mut authorizations = rows::fold_authorizations(auth_rows)?;
    // The kind is part of the condition so that the (subject_kind, subject_id) index serves it.
    let sanction_rows: Vec<SanctionRow> = fetch_in(
        conn,
        &format!("SELECT {}", rows::SANCTION_COLUMNS),
        "s.subject_kind = 'committee' AND s.subject_id",
        &ids,
        " ORDER BY s.effective_from, s.id",
    )
    .await?;
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
