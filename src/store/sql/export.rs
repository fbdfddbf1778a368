//! Whole tables for exports, streamed from one snapshot transaction in id order: memory holds
//! one chunk of rows (and one authorization's or certificate's history) at a time.

use futures_util::TryStreamExt;
use tokio::sync::mpsc::Sender;

use super::log::{insert_events, next_seq};
use super::*;
use crate::domain::verification::CertificateState;
use crate::publish::batch::PendingEvent;
use crate::store::{CertificateStatusRow, EXPORT_CHUNK, ExportRow, Exported, Exports, Table};

#[async_trait::async_trait]
impl Exports for ThisStore {
    async fn export(&self, tables: &[Table], out: Sender<Exported>) -> StoreResult<()> {
        let mut tx = self.begin_lag_tolerant_snapshot().await?;
        let size = next_seq(&mut tx).await?;
        let mut sink = Sink { out, rows: Vec::with_capacity(EXPORT_CHUNK), open: true };
        sink.send(Exported::LogSize(size as u64)).await;
        for &table in tables {
            sink.send(Exported::Start(table)).await;
            export_table(&mut tx, table, &mut sink).await?;
            sink.flush().await;
            if !sink.open {
                break;
            }
        }
        tx.rollback().await?;
        Ok(())
    }

    async fn log_record(&self, event: PendingEvent) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let seq = next_seq(&mut tx).await?;
        insert_events(&mut tx, seq, std::slice::from_ref(&event)).await?;
        tx.commit().await?;
        self.wrote(seq + 1);
        Ok(seq)
    }

    async fn copy_database(&self, path: &str) -> StoreResult<bool> {
        if Self::BACKEND != "sqlite" {
            return Ok(false);
        }
        sqlx::query("VACUUM INTO $1").bind(path).execute(&self.pool).await?;
        Ok(true)
    }
}

/// The receiving end, fed a chunk at a time; `open` turns false when the receiver is gone.
struct Sink {
    out: Sender<Exported>,
    rows: Vec<ExportRow>,
    open: bool,
}

impl Sink {
    async fn send(&mut self, item: Exported) {
        if self.open && self.out.send(item).await.is_err() {
            self.open = false;
        }
    }

    async fn push(&mut self, row: ExportRow) {
        self.rows.push(row);
        if self.rows.len() >= EXPORT_CHUNK {
            self.flush().await;
        }
    }

    async fn flush(&mut self) {
        if !self.rows.is_empty() {
            let rows = std::mem::replace(&mut self.rows, Vec::with_capacity(EXPORT_CHUNK));
            self.send(Exported::Rows(rows)).await;
        }
    }
}

async fn export_table(conn: &mut Conn, table: Table, sink: &mut Sink) -> StoreResult<()> {
    match table {
        Table::Authorities => {
            let sql = format!("SELECT id, name, level, region, parent_id FROM authorities ORDER BY id{BYTE_ORDER}");
            each_row(conn, &sql, sink, |r: AuthorityRow| Ok(ExportRow::Authority(Authority::try_from(r)?))).await
        }
        Table::Delegations => {
            let sql = format!(
                "SELECT id, authority_id, delegated_by, series, specialties, levels, valid_from, valid_until, \
                 document_number FROM delegations ORDER BY id{BYTE_ORDER}"
            );
            each_row(conn, &sql, sink, |r: DelegationRow| Ok(ExportRow::Delegation(Delegation::from(r)))).await
        }
        Table::Committees => {
            let sql = format!("SELECT {} ORDER BY id{BYTE_ORDER}", rows::COMMITTEE_COLUMNS);
            each_row(conn, &sql, sink, |r: CommitteeRow| Ok(ExportRow::Committee(Committee::try_from(r)?))).await
        }
        Table::Sanctions => {
            let sql = format!("SELECT {} ORDER BY s.id{BYTE_ORDER}", rows::SANCTION_COLUMNS);
            each_row(conn, &sql, sink, |r: SanctionRow| Ok(ExportRow::Sanction(Sanction::try_from(r)?))).await
        }
        Table::Keys => {
            let sql = format!("SELECT {KEY_COLUMNS} ORDER BY id{BYTE_ORDER}");
            each_row(conn, &sql, sink, |r: IssuerKeyRow| Ok(ExportRow::Key(IssuerKey::try_from(r)?))).await
        }
        Table::Authorizations => authorizations(conn, sink).await,
        Table::Certificates => certificates(conn, sink).await,
        Table::Sessions => {
            let sql = format!(
                "SELECT s.id, s.body, o.body FROM evaluation_sessions s \
                 LEFT JOIN session_outcomes o ON o.session_id = s.id ORDER BY s.id{BYTE_ORDER}"
            );
            each_row(conn, &sql, sink, |r| Ok(ExportRow::Session(super::sessions::session_of(r)?))).await
        }
        Table::Notices => bodies(conn, "notices", sink, ExportRow::Notice).await,
        Table::Draws => bodies(conn, "draw_plans", sink, ExportRow::Draw).await,
        Table::Inspections => bodies(conn, "inspections", sink, ExportRow::Inspection).await,
        Table::Visits => bodies(conn, "supervision_visits", sink, ExportRow::Visit).await,
    }
}

/// A table whose rows keep the record as a JSON body, in id order.
async fn bodies<T: serde::de::DeserializeOwned>(
    conn: &mut Conn,
    table: &str,
    sink: &mut Sink,
    row: fn(T) -> ExportRow,
) -> StoreResult<()> {
    let sql = format!("SELECT body FROM {table} ORDER BY id{BYTE_ORDER}");
    each_row(conn, &sql, sink, |(body,): (String,)| {
        let record = serde_json::from_str(&body).map_err(|e| StoreError::corrupt(format!("{table}: {e}")))?;
        Ok(row(record))
    })
    .await
}

/// Streams a query's rows, each converted to one exported row.
async fn each_row<R>(
    conn: &mut Conn,
    sql: &str,
    sink: &mut Sink,
    convert: impl Fn(R) -> StoreResult<ExportRow>,
) -> StoreResult<()>
where
    R: for<'r> sqlx::FromRow<'r, <DB as sqlx::Database>::Row> + Send + Unpin,
{
    let mut rows = sqlx::query_as::<_, R>(sqlx::AssertSqlSafe(sql.to_string())).fetch(&mut *conn);
    while let Some(row) = rows.try_next().await? {
        sink.push(convert(row)?).await;
        if !sink.open {
            break;
        }
    }
    Ok(())
}

/// Authorizations with their histories: the joined rows of one authorization are consecutive.
async fn authorizations(conn: &mut Conn, sink: &mut Sink) -> StoreResult<()> {
    let sql = format!("SELECT {} ORDER BY a.id{BYTE_ORDER}, r.seq", rows::AUTHORIZATION_COLUMNS);
    let mut rows = sqlx::query_as::<_, AuthorizationRecordRow>(sqlx::AssertSqlSafe(sql)).fetch(&mut *conn);
    let mut group: Vec<AuthorizationRecordRow> = Vec::new();
    let finish = |group: Vec<AuthorizationRecordRow>| -> StoreResult<Option<ExportRow>> {
        Ok(rows::fold_authorizations(group)?.into_values().flatten().next().map(ExportRow::Authorization))
    };
    while let Some(row) = rows.try_next().await? {
        if group.last().is_some_and(|last| last.id != row.id)
            && let Some(done) = finish(std::mem::take(&mut group))?
        {
            sink.push(done).await;
            if !sink.open {
                return Ok(());
            }
        }
        group.push(row);
    }
    if let Some(done) = finish(group)? {
        sink.push(done).await;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct CertificateChangeRow {
    number: String,
    credential_sha256: String,
    action: Option<String>,
    reason: Option<String>,
    effective_at: Option<chrono::DateTime<Utc>>,
}

/// Certificates with their status changes, which are few: a left join, grouped by number.
async fn certificates(conn: &mut Conn, sink: &mut Sink) -> StoreResult<()> {
    let sql = format!(
        "SELECT c.number, c.credential_sha256, s.action, s.reason, s.effective_at FROM certificates c \
         LEFT JOIN certificate_status_changes s ON s.number = c.number ORDER BY c.number{BYTE_ORDER}, s.seq"
    );
    let mut rows = sqlx::query_as::<_, CertificateChangeRow>(sqlx::AssertSqlSafe(sql)).fetch(&mut *conn);
    let mut current: Option<CertificateStatusRow> = None;
    while let Some(row) = rows.try_next().await? {
        if let Some(done) = current.take_if(|c| c.number != row.number) {
            sink.push(ExportRow::Certificate(done)).await;
            if !sink.open {
                return Ok(());
            }
        }
        let entry = current.get_or_insert_with(|| CertificateStatusRow {
            number: row.number.clone(),
            credential_sha256: row.credential_sha256.clone(),
            state: CertificateState::Active,
        });
        if let (Some(action), Some(reason), Some(at)) = (&row.action, &row.reason, row.effective_at) {
            entry.state = entry.state.clone().then(action, reason, at);
        }
    }
    if let Some(done) = current {
        sink.push(ExportRow::Certificate(done)).await;
    }
    Ok(())
}
