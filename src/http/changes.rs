//! The change feed: every publication in log order, from any position, as pages of JSON or as
//! a Server-Sent Events stream. Only entries a signed checkpoint covers are served, so a mirror
//! can prove each one against the log's tree (`/api/v1/log/proof/inclusion`) and knows, from
//! the checkpoint, that nothing before it is missing.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::log::{LogEntry, entries_between};
use super::params::{self, Params};
use super::problem::{AppError, Problem};
use super::state::AppState;

/// The most entries one page holds.
pub const MAX_CHANGES: u64 = 1000;
const DEFAULT_CHANGES: u64 = 100;
/// How often a stream looks for a newer checkpoint (the sequencer signs one a second).
const POLL: Duration = Duration::from_secs(1);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChangesParams {
    /// The index of the last entry already held; absent to start from the log's first entry.
    #[param(value_type = Option<i64>, minimum = 0)]
    pub after: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Changes {
    /// Entries after `after`, in log order, each with its leaf hash.
    pub changes: Vec<LogEntry>,
    /// Pass it as `after` for the next page: the index of the last entry here (or `after` again
    /// when there was nothing new).
    pub next_after: Option<u64>,
    /// The signed checkpoint the entries are covered by (C2SP signed note); absent before the
    /// first one.
    pub checkpoint: Option<String>,
    /// The checkpoint's tree size: when `next_after + 1` equals it, the mirror is complete.
    pub checkpoint_size: u64,
}

/// Every publication after a log index, in log order (the change feed). With `Accept:
/// text/event-stream`, a Server-Sent Events stream instead: each entry an event whose `id` is
/// its index (a client that reconnects sends `Last-Event-ID` and resumes after it), new entries
/// pushed within about a second of their checkpoint.
#[utoipa::path(get, path = "/api/v1/changes", tag = "log", params(ChangesParams),
    responses((status = 200, body = Changes, description = "a page of changes, or an event stream (text/event-stream)"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json")))]
pub async fn changes(
    State(state): State<AppState>,
    headers: HeaderMap,
    Params(p): Params<ChangesParams>,
) -> Result<Response, AppError> {
    let limit = limit(&p.limit)?;
    let resumed = headers.get("last-event-id").and_then(|v| v.to_str().ok()).map(|v| Some(v.to_string()));
    let after = params::log_index("after", resumed.as_ref().unwrap_or(&p.after))?;
    let wants_stream = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/event-stream"));
    if wants_stream {
        let permit = state.feed_streams.clone().try_acquire_owned().map_err(|_| {
            AppError::Unavailable(
                "变更订阅连接已满，请稍后重试 / too many change-feed streams are open; retry later".into(),
            )
        })?;
        let events = feed(state, after, limit, permit);
        return Ok(Sse::new(events).keep_alive(KeepAlive::default()).into_response());
    }
    Ok(Json(page(&state, after, limit).await?).into_response())
}

/// One page: the entries after `after` that the latest checkpoint covers, at most `limit`.
async fn page(state: &AppState, after: Option<u64>, limit: u64) -> Result<Changes, AppError> {
    let checkpoint = state.store.latest_checkpoint().await?;
    let covered = checkpoint.as_ref().map_or(0, |c| c.size);
    let start = after.map_or(0, |a| a + 1);
    let end = covered.min(start.saturating_add(limit));
    let changes = if start < end { entries_between(state, start, end).await? } else { vec![] };
    Ok(Changes {
        next_after: changes.last().map(|e| e.index).or(after),
        changes,
        checkpoint: checkpoint.map(|c| c.note),
        checkpoint_size: covered,
    })
}

/// The stream: pages until caught up, then a look for a newer checkpoint every second.
fn feed(
    state: AppState,
    after: Option<u64>,
    limit: u64,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> impl Stream<Item = Result<SseEvent, Infallible>> + Send {
    let pending: std::collections::VecDeque<SseEvent> = Default::default();
    stream::unfold((state, after, pending, permit), move |(state, mut after, mut pending, permit)| async move {
        loop {
            if let Some(event) = pending.pop_front() {
                return Some((Ok(event), (state, after, pending, permit)));
            }
            match page(&state, after, limit).await {
                Ok(changes) if !changes.changes.is_empty() => {
                    after = changes.next_after;
                    for entry in &changes.changes {
                        let data = serde_json::to_string(entry).unwrap_or_default();
                        pending.push_back(SseEvent::default().id(entry.index.to_string()).event("change").data(data));
                    }
                }
                Ok(_) => tokio::time::sleep(POLL).await,
                Err(e) => {
                    tracing::warn!(error = %e, "change feed: the store did not answer; retrying");
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    })
}

fn limit(value: &Option<String>) -> Result<u64, AppError> {
    match params::log_index("limit", value)? {
        None => Ok(DEFAULT_CHANGES),
        Some(n) if (1..=MAX_CHANGES).contains(&n) => Ok(n),
        Some(_) => Err(AppError::invalid(
            "limit",
            "out_of_range",
            format!("limit 应在 1 到 {MAX_CHANGES} 之间"),
            format!("limit must be between 1 and {MAX_CHANGES}"),
        )),
    }
}
