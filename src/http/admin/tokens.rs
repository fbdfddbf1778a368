//! API tokens of the acting authority and the authorities below it.

use axum::Json;
use axum::extract::State;

use crate::http::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::code::Code;
use crate::domain::publish::{Actor, Role, Violation, ViolationKind};
use crate::http::extract::{Authenticated, JsonBody};
use crate::http::params::Params;
use crate::http::problem::{AppError, Problem};
use crate::http::state::AppState;
use crate::store::TokenInfo;

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
    /// A token for this committee's organizing unit (组建单位): role `publisher`, owned by the
    /// committee's authority, good only for the committee's sessions, outcomes and notices.
    #[serde(default)]
    pub committee_id: Option<String>,
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
    params(("Idempotency-Key" = Option<String>, Header, description = "A retry with the same key is refused (409 token_already_created): the secret was shown once")),
    responses((status = 201, body = CreatedToken), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn create_token(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    headers: axum::http::HeaderMap,
    body: JsonBody<NewToken>,
) -> Result<Response, AppError> {
    require_admin(&actor)?;
    if let Some(label) = &body.value.label {
        crate::domain::text::check_text("label", label).map_err(AppError::Rule)?;
    }
    let committee = match &body.value.committee_id {
        Some(id) => Some(organizing_unit_of(&state, &body.value, id).await?),
        None => None,
    };
    let authority =
        committee.clone().or_else(|| body.value.authority_id.clone()).unwrap_or_else(|| actor.authority_id.clone());
    let graph = state.store.authority_graph().await?;
    if graph.get(&authority).is_none() {
        return Err(AppError::Rule(Violation::unknown("authority_id", "部门", "authority", &authority)));
    }
    crate::domain::publish::supervises(&graph, &actor, "authority_id", &authority).map_err(AppError::Rule)?;
    let idem = crate::http::extract::idempotency(&headers, "POST /api/v1/admin/tokens", &body.digest)?;
    let key = idem.as_ref().map(|i| (actor.authority_id.as_str(), i));
    let (token, secret) = state
        .store
        .create_token(
            &authority,
            body.value.role,
            body.value.committee_id.as_deref(),
            body.value.label.as_deref(),
            &actor.credential,
            key,
        )
        .await?;
    tracing::info!(token.id = %token.id, authority.id = %authority, role = token.role.code(), created_by = %actor.credential, "token created");
    let mut response = (StatusCode::CREATED, Json(CreatedToken { token, secret })).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The authority that owns an organizing unit's token: the committee's, which the request may
/// not contradict; only a publisher token can be scoped to a committee.
async fn organizing_unit_of(state: &AppState, token: &NewToken, committee_id: &str) -> Result<String, AppError> {
    if token.role != Role::Publisher {
        return Err(AppError::Rule(Violation::new(
            ViolationKind::Invalid,
            "organizing_unit_role",
            "role",
            "评委会组建单位的凭证只能是发布者（publisher）角色",
            "a committee's organizing unit gets a publisher token",
        )));
    }
    let record = state
        .store
        .committee(committee_id)
        .await?
        .ok_or_else(|| AppError::Rule(Violation::unknown("committee_id", "评委会", "committee", committee_id)))?;
    let owner = record.committee.authority_id.clone();
    if token.authority_id.as_ref().is_some_and(|a| *a != owner) {
        return Err(AppError::Rule(Violation::new(
            ViolationKind::Invalid,
            "committee_of_another_authority",
            "authority_id",
            format!("该评委会由 {owner} 组建和管理，凭证应属于该部门"),
            format!("the committee belongs to authority {owner}; its organizing unit's token is that authority's"),
        )));
    }
    Ok(owner)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TokenOwnerParams {
    /// Whose tokens: the acting authority (default) or one below it.
    authority_id: Option<String>,
}

/// The authority whose tokens a request names: the actor's own, or one it supervises.
async fn owner(state: &AppState, actor: &Actor, p: &TokenOwnerParams) -> Result<String, AppError> {
    let Some(authority) = crate::http::params::text(&p.authority_id) else { return Ok(actor.authority_id.clone()) };
    let graph = state.store.authority_graph().await?;
    if graph.get(authority).is_none() {
        return Err(AppError::Rule(Violation::unknown("authority_id", "部门", "authority", authority)));
    }
    crate::domain::publish::supervises(&graph, actor, "authority_id", authority).map_err(AppError::Rule)?;
    Ok(authority.to_string())
}

/// The tokens of the acting authority, or of one below it (admin role). Secrets are never shown again.
#[utoipa::path(get, path = "/api/v1/admin/tokens", tag = "admin", security(("bearer" = [])), params(TokenOwnerParams),
    responses((status = 200, body = TokenList), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn list_tokens(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Params(p): Params<TokenOwnerParams>,
) -> Result<Json<TokenList>, AppError> {
    require_admin(&actor)?;
    let authority = owner(&state, &actor, &p).await?;
    Ok(Json(TokenList { tokens: state.store.tokens(&authority).await? }))
}

/// Revoke a token of the acting authority, or of one below it (admin role). Takes effect at once.
#[utoipa::path(delete, path = "/api/v1/admin/tokens/{id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "Token id"), TokenOwnerParams),
    responses((status = 200, body = TokenInfo), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    Params(p): Params<TokenOwnerParams>,
) -> Result<Json<TokenInfo>, AppError> {
    require_admin(&actor)?;
    let authority = owner(&state, &actor, &p).await?;
    let token = state.store.revoke_token(&authority, &id).await?.ok_or_else(|| AppError::not_found("token", &id))?;
    tracing::info!(token.id = %token.id, authority.id = %authority, revoked_by = %actor.credential, "token revoked");
    Ok(Json(token))
}
