//! Public notices (`migrations/*/0009_notices.sql`).

use super::*;
use crate::domain::notice::Notice;
use crate::publish::batch::Batch;
use crate::store::NoticeFilter;

/// Notice ids that exist among `ids`.
pub(super) async fn existing_notices(
    conn: &mut Conn,
    ids: &std::collections::HashSet<String>,
) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = fetch_in(conn, "SELECT id FROM notices", "id", ids, "").await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

pub(super) async fn flush_notices(conn: &mut Conn, batch: &Batch) -> StoreResult<()> {
    for n in &batch.new_notices {
        sqlx::query(
            "INSERT INTO notices (id, committee_id, session_id, published_on, ends_on, body, logged_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&n.id)
        .bind(&n.committee_id)
        .bind(&n.session_id)
        .bind(n.published_on)
        .bind(n.ends_on)
        .bind(serde_json::to_string(n).expect("a notice is plain data"))
        .bind(n.logged_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

impl ThisStore {
    pub(in crate::store) async fn notices_page(
        &self,
        filter: &NoticeFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Notice>> {
        let query = || {
            let mut qb = QueryBuilder::<DB>::new("SELECT body FROM notices WHERE 1 = 1");
            if let Some(after) = after {
                qb.push(" AND id > ").push_bind(after.to_string());
            }
            if let Some(id) = &filter.id {
                qb.push(" AND id = ").push_bind(id.clone());
            }
            if let Some(committee) = &filter.committee_id {
                qb.push(" AND committee_id = ").push_bind(committee.clone());
            }
            if let Some(session) = &filter.session_id {
                qb.push(" AND session_id = ").push_bind(session.clone());
            }
            qb.push(" ORDER BY id LIMIT ").push_bind(i64::from(limit));
            qb
        };
        self.lag_tolerant(|pool| async move {
            let rows: Vec<(String,)> = query().build_query_as().fetch_all(&pool).await?;
            rows.into_iter()
                .map(|(body,)| serde_json::from_str(&body).map_err(|e| StoreError::corrupt(format!("notice: {e}"))))
                .collect()
        })
        .await
    }
}
