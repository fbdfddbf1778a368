//! Matching organization names, web domains and credit codes against the registry, for
//! regulators checking who advertises "职称评审": the exact committee, organizing unit or
//! sanctioned subject, and ranked look-alikes (`domain::similarity`), each with its status and
//! sanctions. Served in bulk (`POST /api/v1/bulk/match`) and as a W3C Reconciliation Service
//! (v0.2) for OpenRefine (`/api/v1/reconcile`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{Authenticated, RawBody};
use super::match_index::{MatchIndex, Matched};
use super::problem::{AppError, Problem};
use super::state::AppState;

/// The most queries one bulk request matches, and its largest body.
pub const MAX_MATCH_LINES: usize = 10_000;
pub const MAX_MATCH_BYTES: usize = 4 * 1024 * 1024;
/// The most queries one reconciliation request carries (OpenRefine sends 10 at a time).
pub const MAX_RECONCILE_QUERIES: usize = 50;
const MAX_RECONCILE_BYTES: usize = 64 * 1024;
/// How long an index is used before it is rebuilt (sanctions on non-committees do not move the
/// store's committee version).
const INDEX_AGE: Duration = Duration::from_secs(30);

/// The index, rebuilt when a committee record changed or after 30 seconds.
async fn index(state: &AppState) -> Result<Arc<MatchIndex>, AppError> {
    let version = state.store.committees_version();
    let mut kept = state.match_index.lock().await;
    if let Some((v, built, index)) = kept.as_ref()
        && *v == version
        && built.elapsed() < INDEX_AGE
    {
        return Ok(index.clone());
    }
    let index = Arc::new(MatchIndex::build(&state.store).await?);
    *kept = Some((version, Instant::now(), index.clone()));
    Ok(index)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MatchResult {
    pub line: usize,
    pub query: String,
    #[serde(flatten)]
    pub matched: Matched,
}

/// Match many organization names, web domains or credit codes at once.
///
/// The body holds one query a line (plain text, a JSON string, or `{"query": …}`), at most
/// 10,000 lines and 4 MiB; the answer is NDJSON, one result per line in order: the exact
/// committee, organizing unit or sanctioned subject, and up to five look-alikes scoring 0.6 or
/// more, each with its status today and the measures in force against it.
#[utoipa::path(post, path = "/api/v1/bulk/match", tag = "committees", security(("bearer" = [])),
    request_body(description = "one query a line", content((String = "text/plain"), (String = "application/x-ndjson"))),
    responses((status = 200, description = "one result per line", body = MatchResult, content_type = "application/x-ndjson"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn bulk_match(
    State(state): State<AppState>,
    Authenticated(_actor): Authenticated,
    RawBody(body): RawBody<MAX_MATCH_BYTES>,
) -> Result<Response, AppError> {
    let text = std::str::from_utf8(&body)
        .map_err(|_| AppError::invalid("body", "not_utf8", "请求体应为 UTF-8 文本", "the body must be UTF-8 text"))?;
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() > MAX_MATCH_LINES {
        return Err(AppError::invalid(
            "body",
            "too_many_lines",
            format!("一次最多匹配 {MAX_MATCH_LINES} 行"),
            format!("at most {MAX_MATCH_LINES} lines a request"),
        ));
    }
    if lines.is_empty() {
        return Err(AppError::invalid("body", "empty_body", "请求体为空", "the body is empty"));
    }
    let index = index(&state).await?;
    let queries: Vec<String> = lines.iter().map(|line| query_text(line)).collect();
    let out = tokio::task::spawn_blocking(move || answer(&index, &queries))
        .await
        .map_err(|e| AppError::Internal(format!("bulk match: {e}")))?;
    Ok(([(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"))], out).into_response())
}

/// The NDJSON answer to every query, in order, the queries split over every core (off the
/// async workers: matching is CPU work).
fn answer(index: &MatchIndex, queries: &[String]) -> Vec<u8> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = queries.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = queries
            .chunks(chunk)
            .enumerate()
            .map(|(c, part)| {
                scope.spawn(move || {
                    let mut out = Vec::with_capacity(part.len() * 256);
                    for (j, query) in part.iter().enumerate() {
                        let result =
                            MatchResult { line: c * chunk + j + 1, matched: index.find(query), query: query.clone() };
                        serde_json::to_writer(&mut out, &result).expect("a match result is plain data");
                        out.push(b'\n');
                    }
                    out
                })
            })
            .collect();
        parts.into_iter().flat_map(|part| part.join().expect("matching does not panic")).collect()
    })
}

/// A line's query: a JSON string, `{"query": …}`, or the text itself.
fn query_text(line: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(line.trim()) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(serde_json::Value::Object(o)) => o.get("query").and_then(|q| q.as_str()).unwrap_or_default().to_string(),
        _ => line.trim().to_string(),
    }
}

/// The W3C Reconciliation Service manifest (v0.2), for OpenRefine.
#[utoipa::path(get, path = "/api/v1/reconcile", tag = "committees",
    responses((status = 200, description = "the service manifest", body = Object)))]
pub async fn reconcile_manifest(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "versions": ["0.2"],
        "name": "职称评审开放登记 / zhicheng registry",
        "identifierSpace": format!("{}/committees/", state.public_url),
        "schemaSpace": format!("{}/api/v1/", state.public_url),
        "defaultTypes": [
            {"id": "committee", "name": "评审委员会 / evaluation committee"},
            {"id": "organizing_unit", "name": "组建单位 / organizing unit"}
        ],
        "view": {"url": format!("{}/committees/{{{{id}}}}", state.public_url)}
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ReconcileForm {
    /// JSON: `{"q0": {"query": "…", "limit": 3}, …}`.
    pub queries: String,
}

#[derive(Debug, Deserialize)]
struct ReconcileQuery {
    query: String,
    limit: Option<usize>,
}

/// Reconcile a batch of names (W3C Reconciliation API v0.2, the form OpenRefine posts).
#[utoipa::path(post, path = "/api/v1/reconcile", tag = "committees",
    request_body(content = ReconcileForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "candidates per query key", body = Object),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn reconcile(
    State(state): State<AppState>,
    RawBody(body): RawBody<MAX_RECONCILE_BYTES>,
) -> Result<Json<serde_json::Value>, AppError> {
    let invalid = || {
        AppError::invalid(
            "queries",
            "malformed_queries",
            format!("queries 应为 JSON 对象，最多 {MAX_RECONCILE_QUERIES} 个查询，每个带 query"),
            format!("queries must be a JSON object of at most {MAX_RECONCILE_QUERIES} queries, each with a query"),
        )
    };
    // Read by hand, not by axum's `Form`: its rejections are plain text naming no field.
    let form: ReconcileForm = serde_urlencoded::from_bytes(&body).map_err(|_| invalid())?;
    let queries: HashMap<String, ReconcileQuery> = serde_json::from_str(&form.queries).map_err(|_| invalid())?;
    if queries.len() > MAX_RECONCILE_QUERIES {
        return Err(invalid());
    }
    let index = index(&state).await?;
    let mut answers = serde_json::Map::new();
    for (key, q) in queries {
        let matched = index.find(&q.query);
        let limit = q.limit.unwrap_or(3).clamp(1, 10);
        let exact = matched.exact.iter().map(|c| (c, true));
        let result: Vec<serde_json::Value> = exact
            .chain(matched.look_alikes.iter().map(|c| (c, false)))
            .filter(|(c, _)| c.committee_id.is_some())
            .take(limit)
            .map(|(c, exact)| {
                serde_json::json!({
                    "id": c.committee_id,
                    "name": c.name,
                    "score": (c.score * 100.0).round(),
                    "match": exact,
                    "type": [{"id": c.kind, "name": c.kind}],
                })
            })
            .collect();
        answers.insert(key, serde_json::json!({ "result": result }));
    }
    Ok(Json(serde_json::Value::Object(answers)))
}
