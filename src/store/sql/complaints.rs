//! Complaints (`migrations/*/0011_complaints.sql`): stored with their receipt logged in the
//! same transaction, so the log's count of complaints and the table agree.

use super::log::{insert_events, next_seq};
use super::*;
use crate::domain::complaint::{Complaint, ComplaintCounts, ComplaintStatus};
use crate::publish::batch::PendingEvent;

fn complaint_of(body: &str) -> StoreResult<Complaint> {
    serde_json::from_str(body).map_err(|e| StoreError::corrupt(format!("complaint: {e}")))
}

#[async_trait::async_trait]
impl crate::store::Complaints for ThisStore {
    async fn file_complaint(
        &self,
        complaint: &Complaint,
        access_sha256: &str,
        event: PendingEvent,
    ) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let seq = next_seq(&mut tx).await?;
        sqlx::query(
            "INSERT INTO complaints (tracking_number, access_sha256, committee_id, session_id, status, body, received_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&complaint.tracking_number)
        .bind(access_sha256)
        .bind(&complaint.committee_id)
        .bind(&complaint.session_id)
        .bind(complaint.status.code())
        .bind(serde_json::to_string(complaint).expect("a complaint is plain data"))
        .bind(complaint.received_at)
        .bind(complaint.updated_at)
        .execute(&mut *tx)
        .await?;
        insert_events(&mut tx, seq, std::slice::from_ref(&event)).await?;
        tx.commit().await?;
        self.wrote(seq + 1);
        Ok(seq)
    }

    async fn complaint(&self, tracking_number: &str) -> StoreResult<Option<(Complaint, String)>> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT body, access_sha256 FROM complaints WHERE tracking_number = $1")
                .bind(tracking_number)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|(body, access)| Ok((complaint_of(&body)?, access))).transpose()
    }

    async fn update_complaint(&self, complaint: &Complaint, event: PendingEvent) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let seq = next_seq(&mut tx).await?;
        sqlx::query("UPDATE complaints SET status = $1, body = $2, updated_at = $3 WHERE tracking_number = $4")
            .bind(complaint.status.code())
            .bind(serde_json::to_string(complaint).expect("a complaint is plain data"))
            .bind(complaint.updated_at)
            .bind(&complaint.tracking_number)
            .execute(&mut *tx)
            .await?;
        insert_events(&mut tx, seq, std::slice::from_ref(&event)).await?;
        tx.commit().await?;
        self.wrote(seq + 1);
        Ok(seq)
    }

    async fn complaint_counts(&self, session_id: &str) -> StoreResult<ComplaintCounts> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM complaints WHERE session_id = $1 GROUP BY status")
                .bind(session_id)
                .fetch_all(&self.pool)
                .await?;
        let mut counts = ComplaintCounts::default();
        for (status, n) in rows {
            counts.received += n as u64;
            if ComplaintStatus::parse(&status).is_some_and(ComplaintStatus::concluded) {
                counts.concluded += n as u64;
            }
        }
        Ok(counts)
    }
}
