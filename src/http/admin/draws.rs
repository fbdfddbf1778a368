//! Spot-check plans and the inspections published against their draws.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::{PublishResult, publish_one, target};
use crate::domain::draw::{NewDrawPlan, NewInspection};
use crate::domain::publish::Operation;
use crate::http::extract::{Authenticated, JsonBody, Path};
use crate::http::problem::{AppError, Problem};
use crate::http::state::AppState;

/// Publish a spot-check plan: the committees that may be drawn (each supervised by the token's
/// authority) and how many. The draw follows from the first log checkpoint signed after the
/// plan (`GET /api/v1/draws/{id}`), so nobody can steer it.
#[utoipa::path(post, path = "/api/v1/admin/draws", tag = "admin", request_body = NewDrawPlan, security(("bearer" = [])),
    responses((status = 201, body = PublishResult), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn plan_draw(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: JsonBody<NewDrawPlan>,
) -> Result<Response, AppError> {
    let operation = Operation::PlanDraw(body.value);
    publish_one(&state, &actor, &headers, "POST /api/v1/admin/draws", &body.digest, operation).await
}

/// Publish the inspection of a committee the draw selected (409 `not_drawn` otherwise,
/// `draw_pending` before the draw is made).
#[utoipa::path(post, path = "/api/v1/admin/draws/{id}/inspections", tag = "admin", request_body = NewInspection,
    security(("bearer" = [])), params(("id" = String, Path, description = "Plan id")),
    responses((status = 201, body = PublishResult), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn record_inspection(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<NewInspection>,
) -> Result<Response, AppError> {
    let mut value = body.value;
    target(&mut value.plan_id, &id, "plan_id")?;
    let route = format!("POST /api/v1/admin/draws/{id}/inspections");
    publish_one(&state, &actor, &headers, &route, &body.digest, Operation::RecordInspection(value)).await
}
