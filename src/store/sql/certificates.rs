//! Issuer keys and registered certificates, as verification and status lists read them.

use super::writes::load_certificates;
use super::*;
use crate::store::rows::changes_by_number;

#[async_trait::async_trait]
impl CertificateReads for ThisStore {
    async fn registered_supervisor(
        &self,
        number: &str,
    ) -> StoreResult<Option<crate::domain::verification::RegisteredCertificate>> {
        self.supervisor_by_number(number).await
    }

    async fn keys(&self) -> StoreResult<Arc<Vec<IssuerKey>>> {
        let rows: Vec<IssuerKeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {KEY_COLUMNS} ORDER BY id")))
            .fetch_all(&self.pool)
            .await?;
        Ok(Arc::new(rows.into_iter().map(IssuerKey::try_from).collect::<Result<_, _>>()?))
    }

    async fn registered_certificate(
        &self,
        number: &str,
    ) -> StoreResult<Option<crate::domain::verification::RegisteredCertificate>> {
        let mut conn = self.pool.acquire().await?;
        let numbers = std::collections::HashSet::from([number.to_string()]);
        Ok(load_certificates(&mut conn, &numbers).await?.pop().map(|(_, entry)| entry.registered))
    }

    async fn certificate(
        &self,
        number: &str,
    ) -> StoreResult<Option<(crate::domain::verification::RegisteredCertificate, serde_json::Value)>> {
        let Some(registered) = self.registered_certificate(number).await? else { return Ok(None) };
        let credential: String = sqlx::query_scalar("SELECT credential FROM certificates WHERE number = $1")
            .bind(number)
            .fetch_one(&self.pool)
            .await?;
        let credential =
            serde_json::from_str(&credential).map_err(|e| StoreError::Corrupt(format!("stored credential: {e}")))?;
        Ok(Some((registered, credential)))
    }

    async fn certificate_states(
        &self,
        status_authority: Option<&str>,
    ) -> StoreResult<Vec<crate::store::CertificateStatus>> {
        use crate::domain::verification::CertificateState;
        #[derive(sqlx::FromRow)]
        struct Row {
            number: String,
            credential_sha256: String,
            status_authority: String,
            revocation_index: Option<i64>,
            suspension_index: Option<i64>,
            logged_at: chrono::DateTime<Utc>,
        }
        let mut qb = QueryBuilder::<DB>::new(
            "SELECT number, credential_sha256, status_authority, revocation_index, suspension_index, logged_at FROM certificates WHERE 1 = 1",
        );
        let mut changes_qb = QueryBuilder::<DB>::new(
            "SELECT c.number, c.action, c.reason, c.effective_at FROM certificate_status_changes c JOIN certificates x ON x.number = c.number WHERE 1 = 1",
        );
        if let Some(a) = status_authority {
            qb.push(" AND status_authority = ").push_bind(a.to_string());
            changes_qb.push(" AND x.status_authority = ").push_bind(a.to_string());
        }
        qb.push(" ORDER BY number");
        changes_qb.push(" ORDER BY c.number, c.seq");
        let rows: Vec<Row> = qb.build_query_as().fetch_all(&self.pool).await?;
        let changes: Vec<(String, String, String, chrono::DateTime<Utc>)> =
            changes_qb.build_query_as().fetch_all(&self.pool).await?;
        let by_number = changes_by_number(&changes);
        Ok(rows
            .into_iter()
            .map(|r| {
                let state = CertificateState::after(by_number.get(r.number.as_str()).cloned().unwrap_or_default());
                crate::store::CertificateStatus {
                    number: r.number,
                    credential_sha256: r.credential_sha256,
                    status_authority: r.status_authority,
                    revocation_index: r.revocation_index,
                    suspension_index: r.suspension_index,
                    state,
                    logged_at: r.logged_at,
                }
            })
            .collect())
    }
}
