//! The transparency log over HTTP: the C2SP `tlog-tiles` read paths (`/log/checkpoint`,
//! `/log/tile/…`), and JSON conveniences for proofs and entries.

use axum::Json;
use axum::extract::State;

use crate::http::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::params::{self, Params};
use crate::domain::log::Disclosure;
use crate::http::problem::{AppError, Problem};
use crate::http::state::AppState;
use crate::store::{EventFilter, StoredCheckpoint};
use crate::tlog::merkle::{Hash, leaf_hash};
use crate::tlog::tiles::{self, TilePath};
use crate::transparency;

/// Full tiles and any prefix of a tile never change once written.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// The checkpoint changes at most every second.
const FRESH: &str = "public, max-age=1";
/// Entries one JSON request may ask for.
pub const MAX_ENTRIES: u64 = 1000;

fn text(body: String, cache: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8")),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        body,
    )
        .into_response()
}

fn b64(h: &Hash) -> String {
    STANDARD.encode(h)
}

pub(crate) async fn latest(state: &AppState) -> Result<StoredCheckpoint, AppError> {
    state.store.latest_checkpoint().await?.ok_or_else(|| AppError::not_found("checkpoint", "latest"))
}

/// The latest signed checkpoint (C2SP `tlog-checkpoint` signed note).
#[utoipa::path(get, path = "/log/checkpoint", tag = "log",
    responses((status = 200, description = "signed note", body = String, content_type = "text/plain"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn checkpoint(State(state): State<AppState>) -> Result<Response, AppError> {
    Ok(text(latest(&state).await?.note, FRESH))
}

/// The log's verifier key in signed-note form: `zhicheng.registry/<deployment>+<id>+<key>`.
#[utoipa::path(get, path = "/api/v1/log/key", tag = "log",
    responses((status = 200, description = "note verifier key", body = String, content_type = "text/plain")))]
pub async fn key(State(state): State<AppState>) -> Response {
    text(format!("{}\n", state.log.verifier_key()), "public, max-age=3600")
}

/// A hash tile (`<L>/<N>[.p/<W>]`) or an entry bundle (`entries/<N>[.p/<W>]`), per C2SP
/// `tlog-tiles`; `N` is written in three-digit groups, e.g. `x001/234`.
#[utoipa::path(get, path = "/log/tile/{*path}", tag = "log",
    params(("path" = String, Path, description = "`<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`, e.g. `0/x001/234.p/17`")),
    responses((status = 200, description = "tile bytes", body = Vec<u8>, content_type = "application/octet-stream"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn tile(State(state): State<AppState>, Path(path): Path<String>) -> Result<Response, AppError> {
    let not_found = || AppError::not_found("tile", &path);
    let parsed = TilePath::parse(&path).ok_or_else(not_found)?;
    let width = parsed.width.unwrap_or(tiles::WIDTH);
    let size = state.store.log_size().await? as u64;
    // An entry bundle is as wide as the level-0 tile of the same index.
    let available = tiles::width_at(size, parsed.level.unwrap_or(0), parsed.index);
    if available < width {
        return Err(not_found());
    }
    let bytes = match parsed.level {
        Some(level) => {
            let key = (level, parsed.index);
            let stored = state.store.log_tiles(&[key]).await?.remove(&key).ok_or_else(not_found)?;
            tiles::bytes_of(stored.get(..width as usize).ok_or_else(not_found)?)
        }
        None => {
            let first = parsed.index * tiles::WIDTH;
            let events = events_from(&state, first, width).await?;
            let entries: Vec<Vec<u8>> = events.iter().map(|e| e.entry()).collect();
            // Only an entry written before entries were size-checked can be too large.
            tiles::entry_bundle(entries.iter().map(Vec::as_slice))
                .map_err(|e| AppError::Internal(format!("entry bundle {}: {e}", parsed.index)))?
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream")),
            (header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE)),
        ],
        bytes,
    )
        .into_response())
}

/// Up to `count` events from index `start` on.
async fn events_from(state: &AppState, start: u64, count: u64) -> Result<Vec<crate::store::Event>, AppError> {
    let count = u32::try_from(count).unwrap_or(u32::MAX);
    Ok(state.store.events_after(&EventFilter::default(), (start as i64).checked_sub(1), count).await?)
}

fn required_number(field: &str, value: &Option<String>) -> Result<u64, AppError> {
    params::log_index(field, value)?
        .ok_or_else(|| AppError::invalid(field, "required", "缺少必填参数", "this parameter is required"))
}

fn out_of_range(field: &str, zh: String, en: String) -> AppError {
    AppError::invalid(field, "out_of_range", zh, en)
}

/// The size to prove against: the one asked for (at most the log's size), else the latest checkpoint's.
async fn tree_size(state: &AppState, field: &str, asked: Option<u64>) -> Result<u64, AppError> {
    let size = state.store.log_size().await? as u64;
    match asked {
        Some(s) if s > size => Err(out_of_range(
            field,
            format!("{field} 超过日志大小 {size}"),
            format!("{field} exceeds the log size {size}"),
        )),
        Some(s) => Ok(s),
        None => Ok(latest(state).await?.size),
    }
}

/// A tree head: its size, root, and the signed checkpoint when one was signed at this size.
#[derive(Debug, Serialize, ToSchema)]
pub struct TreeHead {
    pub size: u64,
    /// Base64 SHA-256.
    pub root_hash: String,
    /// The C2SP signed note, when a checkpoint was signed at exactly this size.
    pub checkpoint: Option<String>,
}

async fn tree_head(state: &AppState, size: u64) -> Result<TreeHead, AppError> {
    let signed = state.store.checkpoint_at(size).await?;
    let root = match &signed {
        Some(c) => c.root,
        None => transparency::root_at(state.store.as_ref(), size).await?,
    };
    Ok(TreeHead { size, root_hash: b64(&root), checkpoint: signed.map(|c| c.note) })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InclusionParams {
    /// The leaf (event) index.
    #[param(value_type = i64, minimum = 0, required = true)]
    pub index: Option<String>,
    /// The tree size; defaults to the latest checkpoint's.
    #[param(value_type = Option<i64>, minimum = 1)]
    pub size: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProof {
    pub index: u64,
    /// Base64 SHA-256 of `0x00 ‖ entry`.
    pub leaf_hash: String,
    /// RFC 6962 audit path, leaf's sibling first, base64.
    pub hashes: Vec<String>,
    pub tree: TreeHead,
}

/// The inclusion proof of one event in the tree of a given size.
#[utoipa::path(get, path = "/api/v1/log/proof/inclusion", tag = "log", params(InclusionParams),
    responses((status = 200, body = InclusionProof), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn inclusion(
    State(state): State<AppState>,
    Params(p): Params<InclusionParams>,
) -> Result<Json<InclusionProof>, AppError> {
    let index = required_number("index", &p.index)?;
    let size = tree_size(&state, "size", params::log_index("size", &p.size)?).await?;
    if index >= size {
        return Err(out_of_range(
            "index",
            format!("index 应小于树的大小 {size}"),
            format!("index must be below the tree size {size}"),
        ));
    }
    let event = events_from(&state, index, 1).await?;
    let entry = event.first().ok_or_else(|| AppError::not_found("log entry", index.to_string()))?.entry();
    let hashes = transparency::inclusion_proof(state.store.as_ref(), index, size).await?;
    Ok(Json(InclusionProof {
        index,
        leaf_hash: b64(&leaf_hash(&entry)),
        hashes: hashes.iter().map(b64).collect(),
        tree: tree_head(&state, size).await?,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyParams {
    /// The older tree size.
    #[param(value_type = i64, minimum = 0, required = true)]
    pub from: Option<String>,
    /// The newer tree size; defaults to the latest checkpoint's.
    #[param(value_type = Option<i64>, minimum = 0)]
    pub to: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProof {
    pub from: TreeHead,
    pub to: TreeHead,
    /// RFC 6962 consistency proof, base64.
    pub hashes: Vec<String>,
}

/// The proof that the tree of size `from` is a prefix of the tree of size `to`.
#[utoipa::path(get, path = "/api/v1/log/proof/consistency", tag = "log", params(ConsistencyParams),
    responses((status = 200, body = ConsistencyProof), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn consistency(
    State(state): State<AppState>,
    Params(p): Params<ConsistencyParams>,
) -> Result<Json<ConsistencyProof>, AppError> {
    let from = required_number("from", &p.from)?;
    let to = tree_size(&state, "to", params::log_index("to", &p.to)?).await?;
    if from > to {
        return Err(out_of_range(
            "from",
            format!("from 不能大于 to（{to}）"),
            format!("from must not exceed to ({to})"),
        ));
    }
    let hashes = transparency::consistency_proof(state.store.as_ref(), from, to).await?;
    Ok(Json(ConsistencyProof {
        from: tree_head(&state, from).await?,
        to: tree_head(&state, to).await?,
        hashes: hashes.iter().map(b64).collect(),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EntriesParams {
    /// First index.
    #[param(value_type = i64, minimum = 0, required = true)]
    pub start: Option<String>,
    /// One past the last index; at most `start + 1000`, defaults to `start + 100`.
    #[param(value_type = Option<i64>, minimum = 0)]
    pub end: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LogEntry {
    pub index: u64,
    pub leaf_hash: String,
    /// The entry (the event, JCS), parsed.
    #[schema(value_type = Object)]
    pub entry: serde_json::Value,
    /// What the entry's commitments stand for, unless erased.
    pub disclosures: Vec<Disclosure>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LogEntries {
    pub entries: Vec<LogEntry>,
}

/// Log entries `start..end`, with the disclosures that open their commitments.
#[utoipa::path(get, path = "/api/v1/log/entries", tag = "log", params(EntriesParams),
    responses((status = 200, body = LogEntries), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn entries(
    State(state): State<AppState>,
    Params(p): Params<EntriesParams>,
) -> Result<Json<LogEntries>, AppError> {
    let start = required_number("start", &p.start)?;
    let end = params::log_index("end", &p.end)?.unwrap_or(start + 100);
    if end < start || end - start > MAX_ENTRIES {
        return Err(out_of_range(
            "end",
            format!("end 应在 start 与 start + {MAX_ENTRIES} 之间"),
            format!("end must be between start and start + {MAX_ENTRIES}"),
        ));
    }
    Ok(Json(LogEntries { entries: entries_between(&state, start, end).await? }))
}

/// The log's entries `start..end` (fewer when the log is shorter), with their disclosures.
pub async fn entries_between(state: &AppState, start: u64, end: u64) -> Result<Vec<LogEntry>, AppError> {
    let events = events_from(state, start, end.saturating_sub(start)).await?;
    let mut disclosures = state.store.disclosures(start as i64, end as i64).await?.into_iter().peekable();
    Ok(events
        .into_iter()
        .map(|e| {
            let bytes = e.entry();
            let mut opened = Vec::new();
            while let Some((_, d)) = disclosures.next_if(|(seq, _)| *seq == e.seq) {
                opened.push(d);
            }
            LogEntry {
                index: e.seq as u64,
                leaf_hash: b64(&leaf_hash(&bytes)),
                entry: serde_json::from_slice(&bytes).expect("an entry is JSON"),
                disclosures: opened,
            }
        })
        .collect())
}

/// A certificate's issuance event with its inclusion proof and the checkpoint it is proved
/// against, as a C2SP `tlog-proof` file; `extra` is the entry itself (base64).
#[utoipa::path(get, path = "/api/v1/certificates/{number}/tlog-proof", tag = "certificates",
    params(("number" = String, Path, description = "certificate number")),
    responses((status = 200, description = "c2sp.org/tlog-proof@v1", body = String, content_type = "text/plain"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "not yet in a checkpoint; retry in a second", body = Problem, content_type = "application/problem+json")))]
pub async fn certificate_proof(
    State(state): State<AppState>,
    Path(number): Path<String>,
) -> Result<Response, AppError> {
    // The entity's type too: the events index is (entity_type, entity_id, seq), and without the
    // type every lookup scanned the whole log.
    let filter = EventFilter {
        kind: Some("certificate.issued".into()),
        entity_type: Some("certificate".into()),
        entity_id: Some(number.clone()),
        ..Default::default()
    };
    let event = state
        .store
        .events_after(&filter, None, 1)
        .await?
        .pop()
        .ok_or_else(|| AppError::not_found("certificate", &number))?;
    let Some(checkpoint) = state.store.latest_checkpoint().await?.filter(|c| c.size > event.seq as u64) else {
        let mut response = AppError::NotYetLogged.into_response();
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return Ok(response);
    };
    let hashes = transparency::inclusion_proof(state.store.as_ref(), event.seq as u64, checkpoint.size).await?;
    let proof = crate::tlog::signed_note::TlogProof {
        extra: Some(event.entry()),
        index: event.seq as u64,
        hashes,
        checkpoint: checkpoint.note,
    };
    Ok(text(proof.format(), IMMUTABLE))
}
