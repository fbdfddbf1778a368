//! The authenticated write API under `/api/v1/admin`, one module per resource. Every write is
//! one operation, applied in one transaction with its event; rule violations answer 403/409/422
//! problem+json.

pub mod authorizations;
pub mod draws;
pub mod events;
pub mod import;
pub mod registry;
pub mod sanctions;
pub mod sessions;
pub mod tokens;

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use super::extract::idempotency;
use crate::domain::publish::{Actor, Operation, Violation, ViolationKind};
use crate::http::problem::AppError;
use crate::http::state::AppState;
use crate::store::{Applied, WriteOutcome};

#[derive(Debug, Serialize, ToSchema)]
pub struct PublishResult {
    pub applied: Applied,
    /// True when an earlier request with the same Idempotency-Key already did this; nothing was written now.
    pub replayed: bool,
}

pub fn respond(status: StatusCode, body: impl Serialize, replayed: bool) -> Response {
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
    let outcome =
        state.execute(actor, std::slice::from_ref(&op), idem.as_ref()).await.map_err(|e| AppError::from(e).single())?;
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
