//! The authenticated write API under `/api/v1/admin`. Every write is one operation, applied
//! in one transaction with its event; rule violations answer 403/409/422 problem+json.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::extract::{Authenticated, JsonBody, idempotency};
use super::params::{self, Params};
use crate::domain::code::Code;
use crate::domain::publish::{
    Actor, AuthorityAmendment, AuthorizationAct, AuthorizationAmendment, CommitteeAmendment, NewAuthority,
    NewAuthorization, NewCommittee, NewDelegation, NewSanction, Operation, Role, SanctionLift, Violation,
    ViolationKind,
};
use crate::http::problem::{AppError, Problem};
use crate::http::state::AppState;
use crate::publish::import::{CsvType, Format};
use crate::store::{Applied, Event, EventFilter, TokenInfo, WriteOutcome};

/// Request bodies up to this size are accepted by the bulk import.
pub const MAX_IMPORT_BYTES: usize = 256 * 1024 * 1024;

#[derive(Debug, Serialize, ToSchema)]
pub struct PublishResult {
    pub applied: Applied,
    /// True when an earlier request with the same Idempotency-Key already did this; nothing was written now.
    pub replayed: bool,
}

fn respond(status: StatusCode, body: impl Serialize, replayed: bool) -> Response {
    let mut response = (status, Json(body)).into_response();
    if replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// Applies one operation and answers 201 with what it did (200 when replayed).
pub async fn publish_one(
    state: &AppState,
    actor: &Actor,
    headers: &HeaderMap,
    route: &str,
    digest: &str,
    op: Operation,
) -> Result<Response, AppError> {
    let idem = idempotency(headers, route, digest)?;
    let outcome = state
        .store
        .execute(actor, std::slice::from_ref(&op), idem.as_ref(), None)
        .await
        .map_err(|e| AppError::from(e).single())?;
    let (mut applied, replayed) = match outcome {
        WriteOutcome::Applied(a) => (a, false),
        WriteOutcome::Replayed(a) => (a, true),
    };
    let applied = applied.pop().ok_or_else(|| AppError::Internal("an applied write returned no result".into()))?;
    tracing::info!(event.kind = %applied.op, entity.id = %applied.id, authority.id = %actor.authority_id, credential = %actor.credential, replayed, "published");
    Ok(respond(
        if replayed { StatusCode::OK } else { StatusCode::CREATED },
        PublishResult { applied, replayed },
        replayed,
    ))
}

/// Fills a body's target id from the path; a different id in the body is a contradiction.
pub fn target(field: &mut String, path_id: &str, name: &str) -> Result<(), AppError> {
    if !field.is_empty() && field != path_id {
        return Err(AppError::Rule(Violation::new(
            ViolationKind::Invalid,
            "id_mismatch",
            name,
            format!("请求体中的 {name} 与路径不一致"),
            format!("{name} in the body differs from the id in the path"),
        )));
    }
    *field = path_id.to_string();
    Ok(())
}

/// Create a sub-authority (admin role).
#[utoipa::path(post, path = "/api/v1/admin/authorities", tag = "admin", request_body = NewAuthority, security(("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Retries with the same key return the first result")),
    responses((status = 201, body = PublishResult), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn create_authority(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: JsonBody<NewAuthority>,
) -> Result<Response, AppError> {
    publish_one(
        &state,
        &actor,
        &headers,
        "POST /api/v1/admin/authorities",
        &body.digest,
        Operation::CreateAuthority(body.value),
    )
    .await
}

/// Rename an authority (admin role, the authority itself or one above it).
#[utoipa::path(patch, path = "/api/v1/admin/authorities/{id}", tag = "admin", request_body = AuthorityAmendment, security(("bearer" = [])),
    params(("id" = String, Path, description = "Authority id")),
    responses((status = 201, body = PublishResult), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn amend_authority(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<AuthorityAmendment>,
) -> Result<Response, AppError> {
    let mut value = body.value;
    target(&mut value.authority_id, &id, "authority_id")?;
    publish_one(
        &state,
        &actor,
        &headers,
        &format!("PATCH /api/v1/admin/authorities/{id}"),
        &body.digest,
        Operation::AmendAuthority(value),
    )
    .await
}

/// Delegate evaluation-approval competence to an authority below (下放评审权限).
#[utoipa::path(post, path = "/api/v1/admin/delegations", tag = "admin", request_body = NewDelegation, security(("bearer" = [])),
    responses((status = 201, body = PublishResult), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn create_delegation(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: JsonBody<NewDelegation>,
) -> Result<Response, AppError> {
    publish_one(
        &state,
        &actor,
        &headers,
        "POST /api/v1/admin/delegations",
        &body.digest,
        Operation::Delegate(body.value),
    )
    .await
}

/// Register a committee approved by the acting authority.
#[utoipa::path(post, path = "/api/v1/admin/committees", tag = "admin", request_body = NewCommittee, security(("bearer" = [])),
    responses((status = 201, body = PublishResult), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn create_committee(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: JsonBody<NewCommittee>,
) -> Result<Response, AppError> {
    publish_one(
        &state,
        &actor,
        &headers,
        "POST /api/v1/admin/committees",
        &body.digest,
        Operation::CreateCommittee(body.value),
    )
    .await
}

/// Amend a committee's name, organizing unit, domains or contact.
#[utoipa::path(patch, path = "/api/v1/admin/committees/{id}", tag = "admin", request_body = CommitteeAmendment, security(("bearer" = [])),
    params(("id" = String, Path, description = "Committee id")),
    responses((status = 201, body = PublishResult), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn amend_committee(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<CommitteeAmendment>,
) -> Result<Response, AppError> {
    let mut value = body.value;
    target(&mut value.committee_id, &id, "committee_id")?;
    publish_one(
        &state,
        &actor,
        &headers,
        &format!("PATCH /api/v1/admin/committees/{id}"),
        &body.digest,
        Operation::AmendCommittee(value),
    )
    .await
}

/// Grant an authorization (核准备案). It must lie inside the grantor's competence on its dates.
#[utoipa::path(post, path = "/api/v1/admin/authorizations", tag = "admin", request_body = NewAuthorization, security(("bearer" = [])),
    responses((status = 201, body = PublishResult), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn grant_authorization(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: JsonBody<NewAuthorization>,
) -> Result<Response, AppError> {
    publish_one(
        &state,
        &actor,
        &headers,
        "POST /api/v1/admin/authorizations",
        &body.digest,
        Operation::GrantAuthorization(body.value),
    )
    .await
}

/// Amend an authorization's terms from a date.
#[utoipa::path(post, path = "/api/v1/admin/authorizations/{id}/amend", tag = "admin", request_body = AuthorizationAmendment, security(("bearer" = [])),
    params(("id" = String, Path, description = "Authorization id")),
    responses((status = 201, body = PublishResult), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn amend_authorization(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<AuthorizationAmendment>,
) -> Result<Response, AppError> {
    let mut value = body.value;
    target(&mut value.authorization_id, &id, "authorization_id")?;
    publish_one(
        &state,
        &actor,
        &headers,
        &format!("POST /api/v1/admin/authorizations/{id}/amend"),
        &body.digest,
        Operation::AmendAuthorization(value),
    )
    .await
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthorizationActKind {
    Suspend,
    Reinstate,
    Withdraw,
}

/// Suspend, reinstate or withdraw an authorization from a date. A date in the past is
/// accepted and flagged as back-dated in the event.
#[utoipa::path(post, path = "/api/v1/admin/authorizations/{id}/{act}", tag = "admin", request_body = AuthorizationAct, security(("bearer" = [])),
    params(("id" = String, Path, description = "Authorization id"), ("act" = AuthorizationActKind, Path, description = "suspend, reinstate or withdraw")),
    responses((status = 201, body = PublishResult), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn act_on_authorization(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path((id, act)): Path<(String, String)>,
    headers: HeaderMap,
    body: JsonBody<AuthorizationAct>,
) -> Result<Response, AppError> {
    let mut value = body.value;
    target(&mut value.authorization_id, &id, "authorization_id")?;
    let op = match act.as_str() {
        "suspend" => Operation::SuspendAuthorization(value),
        "reinstate" => Operation::ReinstateAuthorization(value),
        "withdraw" => Operation::WithdrawAuthorization(value),
        _ => return Err(AppError::RouteNotFound),
    };
    publish_one(&state, &actor, &headers, &format!("POST /api/v1/admin/authorizations/{id}/{act}"), &body.digest, op)
        .await
}

/// Publish a sanction. One dated in the past is accepted and flagged as back-dated.
#[utoipa::path(post, path = "/api/v1/admin/sanctions", tag = "admin", request_body = NewSanction, security(("bearer" = [])),
    responses((status = 201, body = PublishResult), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn publish_sanction(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: JsonBody<NewSanction>,
) -> Result<Response, AppError> {
    publish_one(
        &state,
        &actor,
        &headers,
        "POST /api/v1/admin/sanctions",
        &body.digest,
        Operation::PublishSanction(body.value),
    )
    .await
}

/// Lift a sanction from a date.
#[utoipa::path(post, path = "/api/v1/admin/sanctions/{id}/lift", tag = "admin", request_body = SanctionLift, security(("bearer" = [])),
    params(("id" = String, Path, description = "Sanction id")),
    responses((status = 201, body = PublishResult), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn lift_sanction(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<SanctionLift>,
) -> Result<Response, AppError> {
    let mut value = body.value;
    target(&mut value.sanction_id, &id, "sanction_id")?;
    publish_one(
        &state,
        &actor,
        &headers,
        &format!("POST /api/v1/admin/sanctions/{id}/lift"),
        &body.digest,
        Operation::LiftSanction(value),
    )
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// `ndjson` (default; one operation a line, tagged by `op`) or `csv`.
    format: Option<String>,
    /// For CSV: committees, authorizations or sanctions.
    #[serde(rename = "type")]
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
    request_body(content = String, content_type = "application/x-ndjson", description = "NDJSON operations, or CSV with format=csv"),
    responses((status = 200, body = ImportResult), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn import(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Params(p): Params<ImportParams>,
    headers: HeaderMap,
    body: Bytes,
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
    let parsed = crate::publish::import::parse(text, format, csv_type)?;
    let digest = hex::encode(Sha256::digest(&body));
    let idem = idempotency(&headers, "POST /api/v1/admin/import", &digest)?;
    tracing::info!(operations = parsed.operations.len(), authority.id = %actor.authority_id, credential = %actor.credential, "import started");
    let outcome = state
        .store
        .execute(&actor, &parsed.operations, idem.as_ref(), None)
        .await
        .map_err(|e| AppError::in_file(e, &parsed))?;
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventParams {
    /// Event kind, e.g. `authorization.withdrawn`.
    kind: Option<String>,
    /// Only events about this entity.
    entity_id: Option<String>,
    cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    pub events: Vec<Event>,
    pub meta: super::views::ListMeta,
}

/// The acting authority's own audit trail, oldest first.
#[utoipa::path(get, path = "/api/v1/admin/events", tag = "admin", security(("bearer" = [])), params(EventParams),
    responses((status = 200, body = EventList), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn list_events(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Params(p): Params<EventParams>,
) -> Result<Json<EventList>, AppError> {
    let limit = params::limit(&p.limit)?;
    let after = params::cursor(&p.cursor)?
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| AppError::invalid("cursor", "invalid_cursor", "分页游标无效", "malformed cursor"))
        })
        .transpose()?;
    let filter = EventFilter {
        authority_id: Some(actor.authority_id.clone()),
        kind: params::text(&p.kind).map(str::to_string),
        entity_id: params::text(&p.entity_id).map(str::to_string),
        ..Default::default()
    };
    let mut events = state.store.events_after(&filter, after, limit + 1).await?;
    let next_cursor = if events.len() > limit as usize {
        events.truncate(limit as usize);
        events.last().map(|e| params::encode_cursor(&e.seq.to_string()))
    } else {
        None
    };
    Ok(Json(EventList { meta: super::views::ListMeta { count: events.len(), next_cursor, as_of: None }, events }))
}

fn require_admin(actor: &Actor) -> Result<(), AppError> {
    if actor.role == Role::Admin {
        return Ok(());
    }
    Err(AppError::Rule(Violation::new(
        ViolationKind::Forbidden,
        "wrong_role",
        "role",
        "管理凭证需要 admin 角色",
        "managing tokens needs the admin role",
    )))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub role: Role,
    #[serde(default)]
    pub label: Option<String>,
    /// The acting authority (default) or one below it.
    #[serde(default)]
    pub authority_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub token: TokenInfo,
    /// The secret, shown this once: only its digest is stored.
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub tokens: Vec<TokenInfo>,
}

/// Create a token (admin role). The secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/admin/tokens", tag = "admin", request_body = NewToken, security(("bearer" = [])),
    responses((status = 201, body = CreatedToken), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn create_token(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    body: JsonBody<NewToken>,
) -> Result<Response, AppError> {
    require_admin(&actor)?;
    let authority = body.value.authority_id.clone().unwrap_or_else(|| actor.authority_id.clone());
    let graph = state.store.authority_graph().await?;
    if graph.get(&authority).is_none() {
        return Err(AppError::Rule(Violation::unknown("authority_id", "部门", "authority", &authority)));
    }
    crate::domain::publish::supervises(&graph, &actor, "authority_id", &authority).map_err(AppError::Rule)?;
    let (token, secret) =
        state.store.create_token(&authority, body.value.role, body.value.label.as_deref(), &actor.credential).await?;
    tracing::info!(token.id = %token.id, authority.id = %authority, role = token.role.code(), created_by = %actor.credential, "token created");
    let mut response = (StatusCode::CREATED, Json(CreatedToken { token, secret })).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The acting authority's tokens (admin role). Secrets are never shown again.
#[utoipa::path(get, path = "/api/v1/admin/tokens", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = TokenList), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn list_tokens(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
) -> Result<Json<TokenList>, AppError> {
    require_admin(&actor)?;
    Ok(Json(TokenList { tokens: state.store.tokens(&actor.authority_id).await? }))
}

/// Revoke one of the acting authority's tokens (admin role). Takes effect at once.
#[utoipa::path(delete, path = "/api/v1/admin/tokens/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "Token id")),
    responses((status = 200, body = TokenInfo), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<TokenInfo>, AppError> {
    require_admin(&actor)?;
    let token =
        state.store.revoke_token(&actor.authority_id, &id).await?.ok_or_else(|| AppError::not_found("token", &id))?;
    tracing::info!(token.id = %token.id, revoked_by = %actor.credential, "token revoked");
    Ok(Json(token))
}
