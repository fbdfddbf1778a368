//! Spot-check plans and inspections (`migrations/*/0008_spot_checks.sql`). A plan is read with
//! the first checkpoint past its log entry: the note that seeds its draw.

use super::*;
use crate::domain::draw::{DrawPlan, Inspection};
use crate::publish::batch::Batch;
use crate::store::{DrawSeed, InspectionFilter};

/// The plan's body and the first checkpoint past its entry, if one was signed yet.
const PLAN_SELECT: &str = "SELECT p.body, c.size, c.note FROM draw_plans p LEFT JOIN log_checkpoints c ON c.size = \
     (SELECT MIN(size) FROM log_checkpoints WHERE size > p.log_index)";

type PlanRow = (String, Option<i64>, Option<String>);

fn plan_of((body, size, note): PlanRow) -> StoreResult<(DrawPlan, Option<DrawSeed>)> {
    let plan: DrawPlan = serde_json::from_str(&body).map_err(|e| StoreError::corrupt(format!("draw plan: {e}")))?;
    let seed = size.zip(note).map(|(size, note)| DrawSeed { size: size as u64, note });
    Ok((plan, seed))
}

fn inspection_of((body,): (String,)) -> StoreResult<Inspection> {
    serde_json::from_str(&body).map_err(|e| StoreError::corrupt(format!("inspection: {e}")))
}

/// The plans with these ids, each with its seed note once signed.
pub(super) async fn load_plans(
    conn: &mut Conn,
    ids: &std::collections::HashSet<String>,
) -> StoreResult<Vec<(DrawPlan, Option<DrawSeed>)>> {
    let rows: Vec<PlanRow> = fetch_in(conn, PLAN_SELECT, "p.id", ids, "").await?;
    rows.into_iter().map(plan_of).collect()
}

/// Inspection ids that exist among `ids`.
pub(super) async fn existing_inspections(
    conn: &mut Conn,
    ids: &std::collections::HashSet<String>,
) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = fetch_in(conn, "SELECT id FROM inspections", "id", ids, "").await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Writes the batch's new plans (each with the log index its event got) and inspections.
pub(super) async fn flush_draws(conn: &mut Conn, batch: &Batch, first_seq: i64) -> StoreResult<()> {
    for id in &batch.new_plans {
        let position = batch.events.iter().position(|e| e.entity_type == "draw" && e.entity_id == *id);
        let log_index = first_seq + position.expect("a new plan has its event") as i64;
        let plan = DrawPlan { log_index: log_index as u64, ..batch.plans[id].0.clone() };
        sqlx::query(
            "INSERT INTO draw_plans (id, authority_id, log_index, body, logged_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(&plan.authority_id)
        .bind(log_index)
        .bind(serde_json::to_string(&plan).expect("a plan is plain data"))
        .bind(plan.logged_at)
        .execute(&mut *conn)
        .await?;
    }
    for i in &batch.new_inspections {
        sqlx::query(
            "INSERT INTO inspections (id, plan_id, committee_id, inspected_on, body, logged_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&i.id)
        .bind(&i.plan_id)
        .bind(&i.committee_id)
        .bind(i.inspected_on)
        .bind(serde_json::to_string(i).expect("an inspection is plain data"))
        .bind(i.logged_at)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

impl ThisStore {
    pub(in crate::store) async fn plan_by_id(&self, id: &str) -> StoreResult<Option<(DrawPlan, Option<DrawSeed>)>> {
        let row: Option<PlanRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{PLAN_SELECT} WHERE p.id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(plan_of).transpose()
    }

    pub(in crate::store) async fn plans_page(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<(DrawPlan, Option<DrawSeed>)>> {
        let query = || {
            let mut qb = QueryBuilder::<DB>::new(format!("{PLAN_SELECT} WHERE 1 = 1"));
            if let Some(after) = after {
                qb.push(" AND p.id > ").push_bind(after.to_string());
            }
            qb.push(" ORDER BY p.id LIMIT ").push_bind(i64::from(limit));
            qb
        };
        self.lag_tolerant(|pool| async move {
            let rows: Vec<PlanRow> = query().build_query_as().fetch_all(&pool).await?;
            rows.into_iter().map(plan_of).collect()
        })
        .await
    }

    pub(in crate::store) async fn inspections_page(
        &self,
        filter: &InspectionFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<Inspection>> {
        let query = || {
            let mut qb = QueryBuilder::<DB>::new("SELECT body FROM inspections WHERE 1 = 1");
            if let Some(after) = after {
                qb.push(" AND id > ").push_bind(after.to_string());
            }
            if let Some(plan) = &filter.plan_id {
                qb.push(" AND plan_id = ").push_bind(plan.clone());
            }
            if let Some(committee) = &filter.committee_id {
                qb.push(" AND committee_id = ").push_bind(committee.clone());
            }
            qb.push(" ORDER BY id LIMIT ").push_bind(i64::from(limit));
            qb
        };
        self.lag_tolerant(|pool| async move {
            let rows: Vec<(String,)> = query().build_query_as().fetch_all(&pool).await?;
            rows.into_iter().map(inspection_of).collect()
        })
        .await
    }

    pub(in crate::store) async fn last_inspected_of(
        &self,
        committee_ids: &std::collections::HashSet<String>,
    ) -> StoreResult<Vec<(String, crate::domain::Date)>> {
        let mut conn = self.pool.acquire().await?;
        let select = "SELECT committee_id, MAX(inspected_on) FROM inspections";
        Ok(fetch_in(&mut conn, select, "committee_id", committee_ids, " GROUP BY committee_id").await?)
    }
}
