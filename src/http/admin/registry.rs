//! Authorities, delegations and committees.

use axum::extract::State;

use crate::http::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;

use super::{PublishResult, publish_one, target};
use crate::domain::publish::{
    AuthorityAmendment, CommitteeAmendment, NewAuthority, NewCommittee, NewDelegation, Operation,
};
use crate::http::extract::{Authenticated, JsonBody};
use crate::http::problem::{AppError, Problem};
use crate::http::state::AppState;

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
