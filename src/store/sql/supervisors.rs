//! Supervisor credentials (`migrations/*/0010_supervisors.sql`): registered, revoked, and read
//! back as a registered copy for verification.

use super::*;
use crate::domain::verification::{CertificateState, RegisteredCertificate};
use crate::publish::batch::Batch;

/// (number, issuer, revoked) of the registered credentials among `numbers`.
pub(super) async fn load_supervisors(
    conn: &mut Conn,
    numbers: &std::collections::HashSet<String>,
) -> StoreResult<Vec<(String, String, bool)>> {
    let select = "SELECT s.number, s.issuer, r.number IS NOT NULL FROM supervisor_credentials s \
                  LEFT JOIN supervisor_revocations r ON r.number = s.number";
    Ok(fetch_in(conn, select, "s.number", numbers, "").await?)
}

pub(super) async fn flush_supervisors(conn: &mut Conn, batch: &Batch) -> StoreResult<()> {
    for s in &batch.new_supervisors {
        sqlx::query(
            "INSERT INTO supervisor_credentials (number, credential, credential_sha256, holder_name, issuer, jurisdiction, valid_from, valid_until, key_id, logged_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&s.number)
        .bind(&s.credential)
        .bind(&s.credential_sha256)
        .bind(&s.holder_name)
        .bind(&s.issuer)
        .bind(&s.jurisdiction)
        .bind(s.valid_from)
        .bind(s.valid_until)
        .bind(&s.key_id)
        .bind(s.logged_at)
        .execute(&mut *conn)
        .await?;
    }
    for r in &batch.supervisor_revocations {
        sqlx::query("INSERT INTO supervisor_revocations (number, reason, effective_at) VALUES ($1, $2, $3)")
            .bind(&r.number)
            .bind(&r.reason)
            .bind(r.effective_at)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct SupervisorRow {
    number: String,
    credential_sha256: String,
    holder_name: String,
    logged_at: chrono::DateTime<Utc>,
    reason: Option<String>,
    effective_at: Option<chrono::DateTime<Utc>>,
}

impl ThisStore {
    pub(in crate::store) async fn supervisor_by_number(
        &self,
        number: &str,
    ) -> StoreResult<Option<RegisteredCertificate>> {
        let row: Option<SupervisorRow> = sqlx::query_as(
            "SELECT s.number, s.credential_sha256, s.holder_name, s.logged_at, r.reason, r.effective_at \
             FROM supervisor_credentials s LEFT JOIN supervisor_revocations r ON r.number = s.number WHERE s.number = $1",
        )
        .bind(number)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| RegisteredCertificate {
            number: r.number,
            credential_sha256: r.credential_sha256,
            holder_name: r.holder_name,
            state: match (r.reason, r.effective_at) {
                (Some(reason), Some(since)) => CertificateState::Revoked { reason, since },
                _ => CertificateState::Active,
            },
            logged_at: r.logged_at,
        }))
    }
}
