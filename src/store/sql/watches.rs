//! Watch-lists, and the notifications they owe, queued in the same transaction that moves the
//! matching cursor: an event is matched exactly once, and a queued notification stays until it
//! is delivered or given up.

use chrono::{DateTime, Utc};

use super::log::{next_seq, read_events};
use super::*;
use crate::domain::publish::Violation;
use crate::domain::publish::ViolationKind;
use crate::publish::event::Touched;
use crate::store::{
    Attempt, DeliveryRecord, DueDelivery, EventFilter, NotificationBody, WatchItem, WatchKind, Watches,
};

#[async_trait::async_trait]
impl Watches for ThisStore {
    async fn set_watch_endpoint(&self, token_id: &str, url: Option<&str>) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM watch_endpoints WHERE token_id = $1").bind(token_id).execute(&mut *tx).await?;
        if let Some(url) = url {
            sqlx::query("INSERT INTO watch_endpoints (token_id, url, created_at) VALUES ($1, $2, $3)")
                .bind(token_id)
                .bind(url)
                .bind(Utc::now())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn watch_endpoint(&self, token_id: &str) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar("SELECT url FROM watch_endpoints WHERE token_id = $1")
            .bind(token_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn change_watch_list(
        &self,
        token_id: &str,
        add: &[WatchItem],
        remove: &[WatchItem],
        max: usize,
    ) -> StoreResult<usize> {
        let mut tx = self.begin_write().await?;
        let since = next_seq(&mut tx).await?;
        for item in remove {
            sqlx::query("DELETE FROM watch_items WHERE token_id = $1 AND kind = $2 AND target = $3")
                .bind(token_id)
                .bind(item.kind.code())
                .bind(&item.id)
                .execute(&mut *tx)
                .await?;
        }
        for chunk in add.chunks(INSERT_CHUNK) {
            let mut qb = QueryBuilder::<DB>::new("INSERT INTO watch_items (token_id, kind, target, since_seq) ");
            qb.push_values(chunk, |mut row, item| {
                row.push_bind(token_id).push_bind(item.kind.code()).push_bind(&item.id).push_bind(since);
            });
            qb.push(" ON CONFLICT (token_id, kind, target) DO NOTHING");
            qb.build().execute(&mut *tx).await?;
        }
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM watch_items WHERE token_id = $1")
            .bind(token_id)
            .fetch_one(&mut *tx)
            .await?;
        if count as usize > max {
            return Err(StoreError::Refused(Violation::new(
                ViolationKind::Invalid,
                "too_many_watched",
                "add",
                format!("每个凭证的关注清单最多 {max} 项"),
                format!("a watch-list holds at most {max} items"),
            )));
        }
        tx.commit().await?;
        Ok(count as usize)
    }

    async fn watch_list(&self, token_id: &str) -> StoreResult<Vec<WatchItem>> {
        let rows: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT kind, target FROM watch_items WHERE token_id = $1 ORDER BY kind, target{BYTE_ORDER}"
        )))
        .bind(token_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(kind, id)| {
                let kind = WatchKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("watch kind {kind}")))?;
                Ok(WatchItem { kind, id })
            })
            .collect()
    }

    async fn match_watches(&self, limit: u32, body: &NotificationBody) -> StoreResult<usize> {
        let mut tx = self.begin_write().await?;
        let cursor: Option<i64> =
            sqlx::query_scalar("SELECT after FROM webhook_cursor WHERE id = 1").fetch_optional(&mut *tx).await?;
        let Some(after) = cursor else {
            // The first run: the lists start with what happens from now on.
            let size = next_seq(&mut tx).await?;
            sqlx::query("INSERT INTO webhook_cursor (id, after) VALUES (1, $1)").bind(size).execute(&mut *tx).await?;
            tx.commit().await?;
            return Ok(0);
        };
        let events = read_events(&mut tx, &EventFilter::default(), Some(after - 1), limit).await?;
        let now = Utc::now();
        for event in &events {
            let Some(item) = watched_item(&mut tx, event).await? else { continue };
            let tokens: Vec<String> = sqlx::query_scalar(
                "SELECT i.token_id FROM watch_items i JOIN watch_endpoints w ON w.token_id = i.token_id \
                 WHERE i.kind = $1 AND i.target = $2 AND i.since_seq <= $3 ORDER BY i.token_id",
            )
            .bind(item.kind.code())
            .bind(&item.id)
            .bind(event.seq)
            .fetch_all(&mut *tx)
            .await?;
            let text = body(event, std::slice::from_ref(&item));
            for token in tokens {
                sqlx::query(
                    "INSERT INTO webhook_deliveries (id, token_id, event_seq, body, attempts, next_attempt_at, created_at) \
                     VALUES ($1, $2, $3, $4, 0, $5, $5) ON CONFLICT (id) DO NOTHING",
                )
                .bind(format!("msg_{}_{token}", event.seq))
                .bind(&token)
                .bind(event.seq)
                .bind(&text)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
        if let Some(last) = events.last() {
            sqlx::query("UPDATE webhook_cursor SET after = $1 WHERE id = 1")
                .bind(last.seq + 1)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(events.len())
    }

    async fn due_deliveries(&self, now: DateTime<Utc>, limit: i64) -> StoreResult<Vec<DueDelivery>> {
        let rows: Vec<(String, String, String, i32)> = sqlx::query_as(
            "SELECT d.id, w.url, d.body, d.attempts FROM webhook_deliveries d \
             JOIN watch_endpoints w ON w.token_id = d.token_id \
             WHERE d.next_attempt_at IS NOT NULL AND d.next_attempt_at <= $1 \
             ORDER BY d.next_attempt_at, d.event_seq LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id, url, body, attempts)| DueDelivery { id, url, body, attempts }).collect())
    }

    async fn record_attempt(&self, id: &str, attempt: &Attempt) -> StoreResult<()> {
        let now = Utc::now();
        let (delivered, next, status, error) = match attempt {
            Attempt::Delivered { status } => (Some(now), None, Some(i32::from(*status)), None),
            Attempt::Failed { status, error, retry_at } => {
                (None, *retry_at, status.map(i32::from), Some(error.clone()))
            }
        };
        sqlx::query(
            "UPDATE webhook_deliveries SET attempts = attempts + 1, delivered_at = $2, next_attempt_at = $3, \
             last_status = $4, last_error = $5 WHERE id = $1",
        )
        .bind(id)
        .bind(delivered)
        .bind(next)
        .bind(status)
        .bind(error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn deliveries(&self, token_id: &str, limit: i64) -> StoreResult<Vec<DeliveryRecord>> {
        Ok(sqlx::query_as(
            "SELECT id, event_seq, attempts, delivered_at, next_attempt_at, last_status, last_error, created_at \
             FROM webhook_deliveries WHERE token_id = $1 ORDER BY event_seq DESC LIMIT $2",
        )
        .bind(token_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}

/// The certificate or committee an event is about, if any: a committee's record changes with
/// its authorizations and sanctions too (an act on an authorization names the committee only
/// in the authorization's first event).
async fn watched_item(conn: &mut Conn, event: &Event) -> StoreResult<Option<WatchItem>> {
    let committee = |id: String| Some(WatchItem { kind: WatchKind::Committee, id });
    Ok(match Touched::of(&event.entity_type, &event.entity_id, &event.payload) {
        Touched::Certificate(number) => Some(WatchItem { kind: WatchKind::Certificate, id: number }),
        Touched::Committee(id) => committee(id),
        Touched::PartOfCommittee { entity_type, id } => {
            let filter = EventFilter { entity_type: Some(entity_type), entity_id: Some(id), ..Default::default() };
            let first = read_events(conn, &filter, None, 1).await?;
            match first.first().map(|e| Touched::of(&e.entity_type, &e.entity_id, &e.payload)) {
                Some(Touched::Committee(id)) => committee(id),
                _ => None,
            }
        }
        Touched::Keys | Touched::Sessions | Touched::Nothing | Touched::Everything => None,
    })
}
