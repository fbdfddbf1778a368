//! Bulk files: NDJSON operations or CSV records, all applied or none.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::respond;
use crate::http::extract::{Authenticated, RawBody, idempotency};
use crate::http::params::{self, Params};
use crate::http::problem::{AppError, Problem};
use crate::http::state::AppState;
use crate::publish::import::{CsvType, Format};
use crate::store::WriteOutcome;

/// Request bodies up to this size are accepted by the bulk import.
pub const MAX_IMPORT_BYTES: usize = 256 * 1024 * 1024;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// `ndjson` (default; one operation a line, tagged by `op`) or `csv`.
    #[param(value_type = Option<crate::publish::import::Format>, inline)]
    format: Option<String>,
    /// For CSV: committees, authorizations or sanctions.
    #[serde(rename = "type")]
    #[param(value_type = Option<crate::publish::import::CsvType>, inline)]
    csv_type: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResult {
    /// Operations applied (all of the file).
    pub applied: usize,
    pub first_event_seq: i64,
    pub last_event_seq: i64,
    pub replayed: bool,
}

/// Bulk import, all or nothing. A rejected file answers 422 with every bad line (number,
/// field, reason) and writes nothing.
#[utoipa::path(post, path = "/api/v1/admin/import", tag = "admin", security(("bearer" = [])), params(ImportParams),
    request_body(description = "NDJSON operations, or CSV with format=csv; the content type is not checked", content((String = "application/x-ndjson"), (String = "text/csv"), (String = "text/plain"))),
    responses((status = 200, body = ImportResult), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn import(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Params(p): Params<ImportParams>,
    headers: HeaderMap,
    RawBody(body): RawBody<MAX_IMPORT_BYTES>,
) -> Result<Response, AppError> {
    let format = match params::text(&p.format) {
        None | Some("ndjson") => Format::Ndjson,
        Some("csv") => Format::Csv,
        Some(other) => {
            return Err(AppError::invalid(
                "format",
                "unknown_format",
                format!("未知的格式“{other}”"),
                format!("unknown format {other:?}; expected ndjson or csv"),
            ));
        }
    };
    let csv_type = match params::text(&p.csv_type) {
        None => None,
        Some("committees") => Some(CsvType::Committees),
        Some("authorizations") => Some(CsvType::Authorizations),
        Some("sanctions") => Some(CsvType::Sanctions),
        Some(other) => {
            return Err(AppError::invalid(
                "type",
                "unknown_type",
                format!("未知的记录类型“{other}”"),
                format!("unknown type {other:?}; expected committees, authorizations or sanctions"),
            ));
        }
    };
    let text = std::str::from_utf8(&body).map_err(|e| {
        AppError::invalid("body", "not_utf8", "文件应为 UTF-8 编码", format!("the file is not UTF-8: {e}"))
    })?;
    let operations = crate::publish::import::check(text, format, csv_type, |op| state.bindings.check_operation(op))?;
    let digest = hex::encode(Sha256::digest(&body));
    let idem = idempotency(&headers, "POST /api/v1/admin/import", &digest)?;
    tracing::info!(operations, authority.id = %actor.authority_id, credential = %actor.credential, "import started");
    let mut source = crate::publish::import::FileOperations::new(text, format, csv_type)?;
    let outcome = state.store.execute_from(&actor, &mut source, idem.as_ref(), None).await?;
    let (applied, replayed) = match outcome {
        WriteOutcome::Applied(a) => (a, false),
        WriteOutcome::Replayed(a) => (a, true),
    };
    tracing::info!(operations = applied.len(), authority.id = %actor.authority_id, replayed, "import applied");
    let result = ImportResult {
        applied: applied.len(),
        first_event_seq: applied.first().map_or(0, |a| a.event_seq),
        last_event_seq: applied.last().map_or(0, |a| a.event_seq),
        replayed,
    };
    Ok(respond(StatusCode::OK, result, replayed))
}
