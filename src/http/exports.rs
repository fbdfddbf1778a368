//! Whole public tables as NDJSON or CSV, streamed from one consistent read of the database in
//! constant memory, gzipped when the client accepts it, stamped with the log size they
//! reflect (`Zhicheng-Log-Size`). The strong ETag names the table, format, encoding and log
//! size: an unchanged registry answers `If-None-Match` with 304 before a row is read.

use std::io::Write;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde::Deserialize;
use tokio::sync::{mpsc, oneshot};
use utoipa::IntoParams;

use super::extract::Authenticated;
use super::params::Params;
use super::problem::{AppError, Problem};
use super::state::AppState;
use crate::domain::code::Code;
use crate::export::{Encoder, Format};
use crate::store::{Exported, Table};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// `ndjson` (default) or `csv`.
    #[param(value_type = Option<String>)]
    pub format: Option<String>,
}

/// A whole public table: `authorities`, `delegations`, `committees`, `authorizations`,
/// `sanctions`, `keys`, `certificates` (number, credential SHA-256 and status; no holder), or
/// the supervision tables `sessions`, `notices`, `draws`, `inspections` and `visits`.
/// Rows in id order, exactly as the single-record endpoints show them (without the statuses
/// derived from today's date). Gzipped with `Accept-Encoding: gzip`. Needs an API token;
/// counted against the bulk quota.
#[utoipa::path(get, path = "/api/v1/exports/{table}", tag = "bulk",
    params(("table" = String, Path, description = "the table"), ExportParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "the table, one row a line", content((String = "application/x-ndjson"), (String = "text/csv")),
            headers(("Zhicheng-Log-Size" = u64, description = "the rows reflect log entries 0 to this size, exclusive"))),
        (status = 304, description = "unchanged since the ETag given in If-None-Match"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json")))]
pub async fn export_table(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(table): Path<String>,
    headers: HeaderMap,
    Params(p): Params<ExportParams>,
) -> Result<Response, AppError> {
    let table = Table::parse(&table).ok_or_else(|| AppError::not_found("table", table.clone()))?;
    let format = match p.format.as_deref() {
        None | Some("ndjson") => Format::Ndjson,
        Some("csv") => Format::Csv,
        Some(_) => {
            return Err(AppError::invalid(
                "format",
                "unknown_format",
                "format 应为 ndjson 或 csv",
                "format must be ndjson or csv",
            ));
        }
    };
    let permit = state.export_streams.clone().try_acquire_owned().map_err(|_| {
        AppError::Unavailable("导出请求过多，请稍后重试 / too many exports are running; retry later".into())
    })?;
    let gzip = accepts_gzip(&headers);
    let (sender, mut receiver) = mpsc::channel(4);
    let (finished, outcome) = oneshot::channel();
    let store = state.store.clone();
    tokio::spawn(async move {
        let _ = finished.send(store.export(&[table], sender).await);
    });
    let Some(Exported::LogSize(log_size)) = receiver.recv().await else {
        return Err(match outcome.await {
            Ok(Err(e)) => e.into(),
            _ => AppError::Internal("the export ended before it began".into()),
        });
    };
    tracing::info!(authority.id = %actor.authority_id, table = table.code(), log_size, "export started");
    let encoder = Encoder::new(table, format);
    let chunks = Chunks { receiver, outcome: Some(outcome), encoder, gzip: gzip.then(new_gzip), _permit: permit };
    let body = stream::unfold(chunks, |mut c| async move { c.next().await.map(|item| (item, c)) });
    let mut response = Body::from_stream(body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.media_type()));
    h.insert("zhicheng-log-size", HeaderValue::from(log_size));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    let etag = format!("\"{}-{}-{log_size}{}\"", table.code(), format.extension(), if gzip { "-gz" } else { "" });
    h.insert(header::ETAG, HeaderValue::from_str(&etag).expect("ascii"));
    Ok(response)
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(',').any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            parts.next() == Some("gzip") && !parts.any(|q| q.replace(' ', "") == "q=0")
        })
    })
}

fn new_gzip() -> flate2::write::GzEncoder<Vec<u8>> {
    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast())
}

/// The body: each chunk of rows encoded (and compressed) as it arrives.
struct Chunks {
    receiver: mpsc::Receiver<Exported>,
    outcome: Option<oneshot::Receiver<crate::store::StoreResult<()>>>,
    encoder: Encoder,
    gzip: Option<flate2::write::GzEncoder<Vec<u8>>>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Chunks {
    async fn next(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        loop {
            let Some(item) = self.receiver.recv().await else {
                return self.finish().await;
            };
            let mut out = Vec::new();
            match item {
                Exported::LogSize(_) => continue,
                Exported::Start(_) => self.encoder.header(&mut out),
                Exported::Rows(rows) => rows.iter().for_each(|row| self.encoder.row(row, &mut out)),
            }
            let out = match &mut self.gzip {
                Some(gz) => match gz.write_all(&out) {
                    Ok(()) => std::mem::take(gz.get_mut()),
                    Err(e) => return Some(Err(e)),
                },
                None => out,
            };
            if !out.is_empty() {
                return Some(Ok(Bytes::from(out)));
            }
        }
    }

    /// After the last row: a failed read ends the body with an error (the client sees a broken
    /// transfer, not a short table); a complete one ends the gzip stream.
    async fn finish(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        let outcome = self.outcome.take()?;
        let result = outcome.await.unwrap_or_else(|_| Err(crate::store::StoreError::Internal("export task".into())));
        if let Err(e) = result {
            tracing::error!(error = %e, "export failed part-way; the response is cut off");
            return Some(Err(std::io::Error::other("export failed")));
        }
        let gz = self.gzip.take()?;
        Some(gz.finish().map(Bytes::from))
    }
}
