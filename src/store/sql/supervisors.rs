//! Supervisor credentials (`migrations/*/0010_supervisors.sql`): registered, revoked, and read
//! back as a registered copy for verification.

use super::*;
use crate::domain::supervisor::{SupervisorStanding, Visit};
use crate::domain::verification::{CertificateState, RegisteredCertificate};
use crate::publish::batch::Batch;

type StandingRow = (String, String, String, chrono::DateTime<Utc>, chrono::DateTime<Utc>, bool);

/// (number, issuer, standing) of the registered credentials among `numbers`.
pub(super) async fn load_supervisors(
    conn: &mut Conn,
    numbers: &std::collections::HashSet<String>,
) -> StoreResult<Vec<(String, String, SupervisorStanding)>> {
    let select = "SELECT s.number, s.issuer, s.jurisdiction, s.valid_from, s.valid_until, r.number IS NOT NULL \
                  FROM supervisor_credentials s LEFT JOIN supervisor_revocations r ON r.number = s.number";
    let rows: Vec<StandingRow> = fetch_in(conn, select, "s.number", numbers, "").await?;
    Ok(rows
        .into_iter()
        .map(|(number, issuer, jurisdiction, valid_from, valid_until, revoked)| {
            (number, issuer, SupervisorStanding { jurisdiction, valid_from, valid_until, revoked })
        })
        .collect())
}

/// Regions of the committees `ids`.
pub(super) async fn committee_regions(
    conn: &mut Conn,
    ids: &std::collections::HashSet<String>,
) -> StoreResult<Vec<(String, String)>> {
    Ok(fetch_in(conn, "SELECT id, region FROM committees", "id", ids, "").await?)
}

/// Visit ids that exist among `ids`.
pub(super) async fn existing_visits(
    conn: &mut Conn,
    ids: &std::collections::HashSet<String>,
) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = fetch_in(conn, "SELECT id FROM supervision_visits", "id", ids, "").await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
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
    for v in &batch.new_visits {
        sqlx::query("INSERT INTO supervision_visits (id, session_id, body, logged_at) VALUES ($1, $2, $3, $4)")
            .bind(&v.id)
            .bind(&v.session_id)
            .bind(serde_json::to_string(v).expect("a visit is plain data"))
            .bind(v.logged_at)
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
    pub(in crate::store) async fn visits_of_session(&self, session_id: &str) -> StoreResult<Vec<Visit>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT body FROM supervision_visits WHERE session_id = $1 ORDER BY id LIMIT 100")
                .bind(session_id)
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(body,)| serde_json::from_str(&body).map_err(|e| StoreError::corrupt(format!("visit: {e}"))))
            .collect()
    }

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
