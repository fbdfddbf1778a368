//! Evaluation sessions: registered before they meet, their outcome published afterwards.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use super::{PublishResult, publish_one, target};
use crate::domain::notice::NewNotice;
use crate::domain::publish::{CertificateAct, CertificateSubmission, Operation};
use crate::domain::session::{NewSession, SessionOutcomeSubmission};
use crate::domain::supervisor::NewVisit;
use crate::http::extract::{Authenticated, JsonBody, Path};
use crate::http::problem::{AppError, Problem};
use crate::http::state::AppState;

/// Register an evaluation session before it meets. Refused (409 `session_not_authorized`) when
/// the committee is not authorized for the series, specialty and every level on the meeting
/// date, and (422 `session_in_the_past`) when the meeting date has passed.
#[utoipa::path(post, path = "/api/v1/admin/sessions", tag = "admin", request_body = NewSession, security(("bearer" = [])),
    responses((status = 201, body = PublishResult), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn register_session(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: JsonBody<NewSession>,
) -> Result<Response, AppError> {
    let operation = Operation::RegisterSession(body.value);
    publish_one(&state, &actor, &headers, "POST /api/v1/admin/sessions", &body.digest, operation).await
}

/// Publish a session's outcome once it met: applicants and passes (public sector and
/// enterprises), applicants found wanting on review, and the discipline checklist.
#[utoipa::path(post, path = "/api/v1/admin/sessions/{id}/outcome", tag = "admin", request_body = SessionOutcomeSubmission,
    security(("bearer" = [])), params(("id" = String, Path, description = "Session id")),
    responses((status = 201, body = PublishResult), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn publish_outcome(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<SessionOutcomeSubmission>,
) -> Result<Response, AppError> {
    let mut value = body.value;
    target(&mut value.session_id, &id, "session_id")?;
    let route = format!("POST /api/v1/admin/sessions/{id}/outcome");
    publish_one(&state, &actor, &headers, &route, &body.digest, Operation::PublishSessionOutcome(value)).await
}

/// Publish a notice (公示) of a committee's results: at least five working days, its end date
/// computed on the official holiday calendar, with the channel that takes complaints.
#[utoipa::path(post, path = "/api/v1/admin/notices", tag = "admin", request_body = NewNotice, security(("bearer" = [])),
    responses((status = 201, body = PublishResult), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn publish_notice(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: JsonBody<NewNotice>,
) -> Result<Response, AppError> {
    let operation = Operation::PublishNotice(body.value);
    publish_one(&state, &actor, &headers, "POST /api/v1/admin/notices", &body.digest, operation).await
}

/// Register a supervisor credential (监管凭证) the token's authority signed with its registered
/// key, for a jurisdiction within its own; it is then checked on `POST /api/v1/verify`.
#[utoipa::path(post, path = "/api/v1/admin/supervisors", tag = "admin", request_body = CertificateSubmission,
    security(("bearer" = [])),
    responses((status = 201, body = PublishResult), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn issue_supervisor(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: JsonBody<CertificateSubmission>,
) -> Result<Response, AppError> {
    let operation = Operation::IssueSupervisorCredential(body.value);
    publish_one(&state, &actor, &headers, "POST /api/v1/admin/supervisors", &body.digest, operation).await
}

/// Revoke a supervisor credential: verification fails from then on.
#[utoipa::path(post, path = "/api/v1/admin/supervisors/{number}/revoke", tag = "admin", request_body = CertificateAct,
    security(("bearer" = [])), params(("number" = String, Path, description = "Credential number")),
    responses((status = 201, body = PublishResult), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_supervisor(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(number): Path<String>,
    headers: HeaderMap,
    body: JsonBody<CertificateAct>,
) -> Result<Response, AppError> {
    let mut value = body.value;
    target(&mut value.number, &number, "number")?;
    let route = format!("POST /api/v1/admin/supervisors/{number}/revoke");
    publish_one(&state, &actor, &headers, &route, &body.digest, Operation::RevokeSupervisorCredential(value)).await
}

/// Record the on-site supervision of a session: at least two supervisors, each holding a
/// credential valid on the meeting day whose jurisdiction covers the committee.
#[utoipa::path(post, path = "/api/v1/admin/sessions/{id}/visits", tag = "admin", request_body = NewVisit,
    security(("bearer" = [])), params(("id" = String, Path, description = "Session id")),
    responses((status = 201, body = PublishResult), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn record_visit(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: JsonBody<NewVisit>,
) -> Result<Response, AppError> {
    let mut value = body.value;
    target(&mut value.session_id, &id, "session_id")?;
    let route = format!("POST /api/v1/admin/sessions/{id}/visits");
    publish_one(&state, &actor, &headers, &route, &body.digest, Operation::RecordVisit(value)).await
}
