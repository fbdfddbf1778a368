//! Complaints (投诉举报): taken from anyone who gives a name, followed by the complainant with a
//! tracking number and a secret code (sent in the body, never in a URL), handled by the
//! authority that supervises the committee. Never public; sessions show only their counts.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use rand::Rng;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::complaint::{self, Complaint, ComplaintStatus, NewComplaint};
use crate::domain::publish::{self, Role, Violation, ViolationKind};
use crate::http::extract::{Authenticated, JsonBody, Path};
use crate::http::problem::{AppError, Problem};
use crate::http::state::AppState;
use crate::publish::batch::PendingEvent;
use crate::publish::event::{ComplaintUpdate, Logged, ReceivedComplaint};
use crate::store::secrets;

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

fn tracking_number() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let tail: String = (0..8).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect();
    format!("TS{}{tail}", crate::store::today().format("%Y%m%d"))
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
    complaint::check_complaint(&new).map_err(rule)?;
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
    let now = Utc::now();
    let complaint = Complaint {
        tracking_number: tracking_number(),
        committee_id: new.committee_id,
        session_id: new.session_id,
        complainant_name: new.complainant_name,
        contact: new.contact,
        summary: new.summary,
        status: ComplaintStatus::Received,
        note: None,
        handled_by: record.committee.authority_id.clone(),
        received_at: now,
        updated_at: now,
    };
    let access_code = secrets::generate_secret();
    let received = ReceivedComplaint {
        tracking_number: complaint.tracking_number.clone(),
        committee_id: complaint.committee_id.clone(),
        session_id: complaint.session_id.clone(),
    };
    let event = PendingEvent::standalone(
        &complaint.tracking_number,
        Logged::ReceiveComplaint(received),
        &complaint.handled_by,
        "public",
        now,
    );
    state.store.file_complaint(&complaint, &secrets::digest(&access_code), event).await?;
    let receipt =
        ComplaintReceipt { tracking_number: complaint.tracking_number, access_code, status: complaint.status };
    Ok((StatusCode::CREATED, Json(receipt)))
}

/// A complaint's progress, for its complainant: the access code goes in the body. A wrong code
/// and an unknown number get the same 404.
#[utoipa::path(post, path = "/api/v1/complaints/{tracking_number}/progress", tag = "complaints", request_body = ComplaintAccess,
    params(("tracking_number" = String, Path, description = "Tracking number")),
    responses((status = 200, body = ComplaintProgress), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn complaint_progress(
    State(state): State<AppState>,
    Path(tracking_number): Path<String>,
    body: JsonBody<ComplaintAccess>,
) -> Result<Json<ComplaintProgress>, AppError> {
    let found = state.store.complaint(&tracking_number).await?;
    match found {
        Some((c, digest)) if digest == secrets::digest(&body.value.access_code) => {
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
    let (mut complaint, _) = state
        .store
        .complaint(&tracking_number)
        .await?
        .ok_or_else(|| AppError::not_found("complaint", &tracking_number))?;
    let graph = state.store.authority_graph().await?;
    publish::supervises(&graph, &actor, "tracking_number", &complaint.handled_by).map_err(rule)?;
    let decision = body.value;
    complaint::check_update(complaint.status, decision.status, decision.note.as_deref()).map_err(rule)?;
    let now = Utc::now();
    complaint.status = decision.status;
    complaint.note = decision.note.or(complaint.note);
    complaint.updated_at = now;
    let update = ComplaintUpdate { tracking_number: tracking_number.clone(), status: decision.status };
    let event = PendingEvent::standalone(
        &tracking_number,
        Logged::UpdateComplaint(update),
        &actor.authority_id,
        &actor.credential,
        now,
    );
    state.store.update_complaint(&complaint, event).await?;
    Ok(Json(ComplaintProgress::from(&complaint)))
}
