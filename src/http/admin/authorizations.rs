//! Authorizations: grants, amendments, suspensions, reinstatements, withdrawals.

use axum::extract::State;

use crate::http::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{PublishResult, publish_one, target};
use crate::domain::publish::{AuthorizationAct, AuthorizationAmendment, NewAuthorization, Operation};
use crate::http::extract::{Authenticated, JsonBody};
use crate::http::problem::{AppError, Problem};
use crate::http::state::AppState;

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
    params(("id" = String, Path, description = "Authorization id"), ("act" = inline(AuthorizationActKind), Path, description = "suspend, reinstate or withdraw")),
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
