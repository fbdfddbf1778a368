//! Reads of the registry: authorities, committees with their records, sanctions.

#[allow(clippy::wildcard_imports)]
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

    async fn counts(&self) -> StoreResult<Counts> {
        let count = |table: &'static str| {
            let pool = self.pool.clone();
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

    async fn authorities_after(
        &self,
        filter: &AuthorityFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Authority>> {
        let mut qb = QueryBuilder::<DB>::new("SELECT id, name, level, region, parent_id FROM authorities WHERE 1 = 1");
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

    async fn committees_after(
        &self,
        filter: &CommitteeRowFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<CommitteeRecord>> {
        let mut qb = QueryBuilder::<DB>::new(format!("SELECT {} WHERE 1 = 1", rows::COMMITTEE_COLUMNS));
        if let Some(after) = after {
            qb.push(" AND id > ").push_bind(after.to_string());
        }
        if let Some(q) = &filter.q {
            let pattern = contains_pattern(q);
            qb.push(" AND (name LIKE ")
                .push_bind(pattern.clone())
                .push(" ESCAPE '\\' OR unit_name LIKE ")
                .push_bind(pattern)
                .push(" ESCAPE '\\')");
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
        let row: Option<CommitteeRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {} WHERE id = $1", rows::COMMITTEE_COLUMNS)))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(self.records_for(vec![Committee::try_from(row)?]).await?.pop().map(Arc::new))
    }

    async fn sanctions_after(
        &self,
        filter: &SanctionRowFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Sanction>> {
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
        let rows: Vec<SanctionRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        rows.into_iter().map(Sanction::try_from).collect()
    }
}

impl ThisStore {
    /// Attaches authorizations (with history) and committee sanctions to committees,
    /// in two queries whatever the number of committees.
    async fn records_for(&self, committees: Vec<Committee>) -> StoreResult<Vec<CommitteeRecord>> {
        if committees.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb =
            QueryBuilder::<DB>::new(format!("SELECT {} WHERE a.committee_id IN (", rows::AUTHORIZATION_COLUMNS));
        let mut ids = qb.separated(", ");
        for c in &committees {
            ids.push_bind(c.id.clone());
        }
        qb.push(") ORDER BY a.committee_id, a.id, r.seq");
        let auth_rows: Vec<AuthorizationRecordRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        let mut authorizations = rows::fold_authorizations(auth_rows)?;

        let mut qb = QueryBuilder::<DB>::new(format!(
            "SELECT {} WHERE s.subject_kind = 'committee' AND s.subject_id IN (",
            rows::SANCTION_COLUMNS
        ));
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
