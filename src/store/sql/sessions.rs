//! Evaluation sessions: their registrations and outcomes, each a JSON body in an append-only
//! table (`migrations/*/0007_evaluation_sessions.sql`).

use super::*;
use crate::domain::session::{EvaluationSession, SessionOutcome};
use crate::publish::batch::Batch;
use crate::store::SessionFilter;

const SESSION_SELECT: &str =
    "SELECT s.id, s.body, o.body FROM evaluation_sessions s LEFT JOIN session_outcomes o ON o.session_id = s.id";

pub(super) type SessionRow = (String, String, Option<String>);

pub(super) fn session_of((id, body, outcome): SessionRow) -> StoreResult<EvaluationSession> {
    let corrupt = |e: serde_json::Error| StoreError::corrupt(format!("session {id}: {e}"));
    let mut session: EvaluationSession = serde_json::from_str(&body).map_err(corrupt)?;
    session.outcome = outcome.map(|o| serde_json::from_str::<SessionOutcome>(&o)).transpose().map_err(corrupt)?;
    Ok(session)
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("a session is plain data")
}

/// The sessions whose `column` (`s.id`, `s.committee_id`) is one of `values`, with their outcomes.
pub(super) async fn load_sessions(
    conn: &mut Conn,
    column: &str,
    values: &std::collections::HashSet<String>,
) -> StoreResult<Vec<EvaluationSession>> {
    let rows: Vec<SessionRow> = fetch_in(conn, SESSION_SELECT, column, values, "").await?;
    rows.into_iter().map(session_of).collect()
}

/// Writes the batch's new sessions and outcomes.
pub(super) async fn flush_sessions(conn: &mut Conn, batch: &Batch) -> StoreResult<()> {
    for id in &batch.new_sessions {
        let session = &batch.sessions[id];
        let registration = EvaluationSession { outcome: None, ..session.clone() };
        sqlx::query(
            "INSERT INTO evaluation_sessions (id, committee_id, meets_on, body, logged_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(&session.committee_id)
        .bind(session.meets_on)
        .bind(json(&registration))
        .bind(session.logged_at)
        .execute(&mut *conn)
        .await?;
    }
    for id in &batch.concluded_sessions {
        let outcome = batch.sessions[id].outcome.as_ref().expect("a concluded session has its outcome");
        sqlx::query("INSERT INTO session_outcomes (session_id, body, logged_at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(json(outcome))
            .bind(outcome.logged_at)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

impl ThisStore {
    pub(in crate::store) async fn sessions_page(
        &self,
        filter: &SessionFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<EvaluationSession>> {
        let query = || {
            let mut qb = QueryBuilder::<DB>::new(format!("{SESSION_SELECT} WHERE 1 = 1"));
            if let Some(after) = after {
                qb.push(" AND s.id > ").push_bind(after.to_string());
            }
            if let Some(committee) = &filter.committee_id {
                qb.push(" AND s.committee_id = ").push_bind(committee.clone());
            }
            if let Some(from) = filter.meets_from {
                qb.push(" AND s.meets_on >= ").push_bind(from);
            }
            if let Some(until) = filter.meets_until {
                qb.push(" AND s.meets_on <= ").push_bind(until);
            }
            qb.push(" ORDER BY s.id LIMIT ").push_bind(i64::from(limit));
            qb
        };
        self.lag_tolerant(|pool| async move {
            let rows: Vec<SessionRow> = query().build_query_as().fetch_all(&pool).await?;
            rows.into_iter().map(session_of).collect()
        })
        .await
    }

    pub(in crate::store) async fn session_by_id(&self, id: &str) -> StoreResult<Option<EvaluationSession>> {
        let row: Option<SessionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SESSION_SELECT} WHERE s.id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(session_of).transpose()
    }
}
