//! Complaints (投诉举报): taken from anyone who gives a name, followed by the complainant with a
//! tracking number and a secret code (sent in the body, never in a URL), handled by the
//! authority that supervises the committee. Never public; sessions show only their counts.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::complaint::{Complaint, ComplaintStatus, NewComplaint};
use crate::domain::publish::{self, Role, Violation, ViolationKind};
use crate::http::extract::{Authenticated, JsonBody, Path};
use crate::http::problem::{AppError, Problem};
use crate::http::state::AppState;

/// What the complainant keeps: the number to quote and the code that shows its status.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintReceipt {
    pub tracking_number: String,
    /// Shown once: the registry keeps only its digest.
    pub access_code: String,
    pub status: ComplaintStatus,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintAccess {
    pub access_code: String,
}

/// What the complainant (and the handling authority) sees of a complaint's progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintProgress {
    pub tracking_number: String,
    pub status: ComplaintStatus,
    pub note: Option<String>,
    pub handled_by: String,
    pub received_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

impl From<&Complaint> for ComplaintProgress {
    fn from(c: &Complaint) -> ComplaintProgress {
        ComplaintProgress {
            tracking_number: c.tracking_number.clone(),
            status: c.status,
            note: c.note.clone(),
            handled_by: c.handled_by.clone(),
            received_at: c.received_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintDecision {
    pub status: ComplaintStatus,
    /// To the complainant; required with a conclusion.
    #[serde(default)]
    pub note: Option<String>,
}

fn rule(v: Violation) -> AppError {
    AppError::Rule(v)
}

/// File a complaint about a committee's evaluation (named: anonymous complaints are not taken).
/// The answer's tracking number and access code let the complainant follow it; nothing of it
/// is public, and the transparency log records only that it was received.
#[utoipa::path(post, path = "/api/v1/complaints", tag = "complaints", request_body = NewComplaint,
    responses((status = 201, body = ComplaintReceipt), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn file_complaint(
    State(state): State<AppState>,
    body: JsonBody<NewComplaint>,
) -> Result<(StatusCode, Json<ComplaintReceipt>), AppError> {
    let new = body.value;
    let record = state
        .store
        .committee(&new.committee_id)
        .await?
        .ok_or_else(|| rule(Violation::unknown("committee_id", "评委会", "committee", &new.committee_id)))?;
    if let Some(session_id) = &new.session_id {
        let session = state.store.session(session_id).await?;
        if session.is_none_or(|s| s.committee_id != new.committee_id) {
            return Err(rule(Violation::unknown(
                "session_id",
                "该评委会的评审会议",
                "session of this committee",
                session_id,
            )));
        }
    }
    let received =
        crate::publish::complaints::receive(new, &record.committee.authority_id, Utc::now()).map_err(rule)?;
    state.store.file_complaint(&received.complaint, &received.access_sha256, received.event).await?;
    let receipt = ComplaintReceipt {
        tracking_number: received.complaint.tracking_number,
        access_code: received.access_code,
        status: received.complaint.status,
    };
    Ok((StatusCode::CREATED, Json(receipt)))
}

/// A complaint's progress, for its complainant: the access code goes in the body. A wrong code
/// and an unknown number get the same 404.
#[utoipa::path(post, path = "/api/v1/complaints/{tracking_number}/progress", tag = "complaints", request_body = ComplaintAccess,
    params(("tracking_number" = String, Path, description = "Tracking number")),
    responses((status = 200, body = ComplaintProgress), (status = "4XX", description = "a malformed body, an unknown tracking number or a wrong code (the same 404), or too many requests", body = Problem, content_type = "application/problem+json")))]
pub async fn complaint_progress(
    State(state): State<AppState>,
    Path(tracking_number): Path<String>,
    body: JsonBody<ComplaintAccess>,
) -> Result<Json<ComplaintProgress>, AppError> {
    let found = state.store.complaint(&tracking_number).await?;
    match found {
        Some((c, digest)) if digest == crate::publish::complaints::code_digest(&body.value.access_code) => {
            Ok(Json(ComplaintProgress::from(&c)))
        }
        _ => Err(AppError::not_found("complaint", tracking_number)),
    }
}

/// Move a complaint on (under review, then substantiated or unfounded, with a note to the
/// complainant), by a publisher of the authority that handles it or one above it.
#[utoipa::path(post, path = "/api/v1/admin/complaints/{tracking_number}", tag = "admin", request_body = ComplaintDecision,
    security(("bearer" = [])), params(("tracking_number" = String, Path, description = "Tracking number")),
    responses((status = 200, body = ComplaintProgress), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn decide_complaint(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Path(tracking_number): Path<String>,
    body: JsonBody<ComplaintDecision>,
) -> Result<Json<ComplaintProgress>, AppError> {
    if actor.role != Role::Publisher {
        return Err(rule(Violation::new(
            ViolationKind::Forbidden,
            "wrong_role",
            "role",
            "处理投诉需要发布者（publisher）角色",
            "handling a complaint needs the publisher role",
        )));
    }
    if actor.committee_id.is_some() {
        return Err(rule(Violation::new(
            ViolationKind::Forbidden,
            "outside_token_scope",
            "role",
            "评委会组建单位不能处理投诉：投诉由主管部门核查",
            "a committee's organizing unit does not handle complaints: its authority investigates them",
        )));
    }
    let (mut complaint, _) = state
        .store
        .complaint(&tracking_number)
        .await?
        .ok_or_else(|| AppError::not_found("complaint", &tracking_number))?;
    let graph = state.store.authority_graph().await?;
    publish::supervises(&graph, &actor, "tracking_number", &complaint.handled_by).map_err(rule)?;
    let decision = body.value;
    let event = crate::publish::complaints::decide(&mut complaint, decision.status, decision.note, &actor, Utc::now())
        .map_err(rule)?;
    state.store.update_complaint(&complaint, event).await?;
    Ok(Json(ComplaintProgress::from(&complaint)))
}
