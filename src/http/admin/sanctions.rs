//! Sanctions and their lifting.

use axum::extract::State;

use crate::http::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;

use super::{PublishResult, publish_one, target};
use crate::domain::publish::{NewSanction, Operation, SanctionLift};
use crate::http::extract::{Authenticated, JsonBody};
use crate::http::problem::{AppError, Problem};
use crate::http::state::AppState;

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
