//! Watch-lists: an API token's holder enrolls certificate numbers and committee ids (JSON or a
//! CSV upload), names the URL it wants to be told at, exports its list, and reads its delivery
//! log. The notifications themselves are sent by `webhooks`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{Authenticated, JsonBody, RawBody, parse_json};
use super::params::Params;
use super::problem::{AppError, Problem};
use super::state::AppState;
use crate::domain::code::Code;
use crate::domain::publish::Actor;
use crate::store::{DeliveryRecord, WatchItem, WatchKind};

/// The most items one watch-list holds.
pub const MAX_WATCHED: usize = 10_000;
/// A change body: 10,000 items of about 60 bytes, with room.
pub const MAX_WATCH_BYTES: usize = 1024 * 1024;
const DELIVERY_LOG: i64 = 100;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WatchChange {
    #[serde(default)]
    pub add: Vec<WatchItem>,
    #[serde(default)]
    pub remove: Vec<WatchItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WatchList {
    /// Where notifications go; absent until set.
    pub endpoint: Option<String>,
    pub items: Vec<WatchItem>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// An http(s) URL that accepts Standard Webhooks POSTs.
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Deliveries {
    /// The newest hundred, newest first.
    pub deliveries: Vec<DeliveryRecord>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookKey {
    /// The registry's Ed25519 public key in Standard Webhooks' form (`whpk_` + base64).
    pub key: String,
    /// The same key as a Multikey.
    pub multikey: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// `json` (default) or `csv`.
    #[param(value_type = Option<String>)]
    pub format: Option<String>,
}

/// The token a request came with: each token has its own list.
fn token_id(actor: &Actor) -> Result<&str, AppError> {
    actor.credential.strip_prefix("token:").ok_or_else(|| AppError::Internal("a token without an id".into()))
}

/// The caller's watch-list and endpoint; `?format=csv` for the list as `kind,id` lines.
#[utoipa::path(get, path = "/api/v1/watch", tag = "watch", security(("bearer" = [])), params(ListParams),
    responses((status = 200, content((WatchList = "application/json"), (String = "text/csv"))),
        (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn get_watch_list(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Params(p): Params<ListParams>,
) -> Result<Response, AppError> {
    let token = token_id(&actor)?;
    let items = state.store.watch_list(token).await?;
    match p.format.as_deref() {
        None | Some("json") => {
            Ok(Json(WatchList { endpoint: state.store.watch_endpoint(token).await?, items }).into_response())
        }
        Some("csv") => {
            let mut out = Vec::new();
            crate::export::write_csv(&mut out, ["kind", "id"].into_iter().map(String::from));
            for item in &items {
                crate::export::write_csv(&mut out, [item.kind.code().to_string(), item.id.clone()].into_iter());
            }
            let mut response = out.into_response();
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
            Ok(response)
        }
        Some(_) => {
            Err(AppError::invalid("format", "unknown_format", "format 应为 json 或 csv", "format must be json or csv"))
        }
    }
}

/// Adds and removes items, all or nothing: JSON `{"add": [...], "remove": [...]}`, or a CSV
/// upload (`Content-Type: text/csv`, lines `kind,id`, an optional `kind,id` header) whose
/// every line is added. At most 10,000 items a list.
#[utoipa::path(post, path = "/api/v1/watch", tag = "watch", security(("bearer" = [])),
    request_body(content((WatchChange = "application/json"), (String = "text/csv"))),
    responses((status = 200, body = WatchList), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn change_watch_list(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    RawBody(body): RawBody<MAX_WATCH_BYTES>,
) -> Result<Json<WatchList>, AppError> {
    let token = token_id(&actor)?;
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let change = if content_type.starts_with("text/csv") {
        WatchChange { add: csv_items(&body)?, remove: vec![] }
    } else if content_type.starts_with("application/json") {
        parse_json::<WatchChange>(&body)?
    } else {
        return Err(AppError::UnsupportedMediaType(content_type.to_string()));
    };
    for (field, items) in [("add", &change.add), ("remove", &change.remove)] {
        for (i, item) in items.iter().enumerate() {
            check_id(&format!("{field}[{i}].id"), &item.id)?;
        }
    }
    state.store.change_watch_list(token, &change.add, &change.remove, MAX_WATCHED).await?;
    Ok(Json(WatchList {
        endpoint: state.store.watch_endpoint(token).await?,
        items: state.store.watch_list(token).await?,
    }))
}

fn check_id(field: &str, id: &str) -> Result<(), AppError> {
    if id.trim().is_empty() || id.chars().count() > 100 {
        return Err(AppError::invalid(
            field,
            "invalid_id",
            "编号应为 1 至 100 个字符",
            "an id must be 1 to 100 characters",
        ));
    }
    crate::domain::text::check_text(field, id).map_err(AppError::Rule)
}

/// The lines of a CSV upload as items to add; a bad line names its number.
fn csv_items(body: &[u8]) -> Result<Vec<WatchItem>, AppError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(body);
    let mut items = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 1;
        let bad = |en: &str, zh: &str| {
            AppError::invalid(
                &format!("line {line}"),
                "invalid_line",
                format!("第 {line} 行{zh}"),
                format!("line {line}: {en}"),
            )
        };
        let record = record.map_err(|_| bad("is not CSV text", "不是有效的 CSV 文本"))?;
        let fields: Vec<&str> = record.iter().map(str::trim).collect();
        if line == 1 && fields == ["kind", "id"] {
            continue;
        }
        let [kind, id] = fields[..] else {
            return Err(bad("must be kind,id", "应为 kind,id 两列"));
        };
        let kind = WatchKind::parse(kind)
            .ok_or_else(|| bad("kind must be certificate or committee", "kind 应为 certificate 或 committee"))?;
        items.push(WatchItem { kind, id: id.to_string() });
    }
    Ok(items)
}

/// Sets where the caller's notifications go.
#[utoipa::path(put, path = "/api/v1/watch/endpoint", tag = "watch", security(("bearer" = [])), request_body = Endpoint,
    responses((status = 200, body = WatchList), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn set_endpoint(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    body: JsonBody<Endpoint>,
) -> Result<Json<WatchList>, AppError> {
    let token = token_id(&actor)?;
    let url = body.value.url.trim();
    if url.len() > 2000 {
        return Err(AppError::invalid("url", "invalid_url", "地址过长", "the URL is too long"));
    }
    crate::webhooks::acceptable_url(url, state.webhooks_allow_private).map_err(|why| {
        AppError::invalid(
            "url",
            "invalid_url",
            "地址应为可公开访问的 http(s) 地址",
            format!("the URL is refused: {why}"),
        )
    })?;
    state.store.set_watch_endpoint(token, Some(url)).await?;
    Ok(Json(WatchList { endpoint: Some(url.to_string()), items: state.store.watch_list(token).await? }))
}

/// Stops notifications (the list stays).
#[utoipa::path(delete, path = "/api/v1/watch/endpoint", tag = "watch", security(("bearer" = [])),
    responses((status = 204), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn remove_endpoint(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<StatusCode, AppError> {
    state.store.set_watch_endpoint(token_id(&actor)?, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The delivery log: the caller's newest notifications, each with its attempts and outcome.
#[utoipa::path(get, path = "/api/v1/watch/deliveries", tag = "watch", security(("bearer" = [])),
    responses((status = 200, body = Deliveries), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn deliveries(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<Deliveries>, AppError> {
    Ok(Json(Deliveries { deliveries: state.store.deliveries(token_id(&actor)?, DELIVERY_LOG).await? }))
}

/// The key notifications are signed with (Standard Webhooks, `v1a` Ed25519).
#[utoipa::path(get, path = "/api/v1/webhooks/key", tag = "watch", responses((status = 200, body = WebhookKey)))]
pub async fn webhook_key(State(state): State<AppState>) -> Json<WebhookKey> {
    let key = state.registry.signing_key();
    Json(WebhookKey {
        key: crate::webhooks::public_key(key),
        multikey: crate::crypto::multikey::encode_public(&key.verifying_key()),
    })
}
