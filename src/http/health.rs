//! Liveness and readiness.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::problem::{AppError, Problem};
use crate::http::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// Whether the read replica serves this node's lag-tolerant reads; absent without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replica: Option<crate::store::ReplicaState>,
    pub version: String,
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok".into(), database: None, replica: None, version: env!("CARGO_PKG_VERSION").into() })
}

/// The process can answer: the database responds.
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Problem, content_type = "application/problem+json")))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, AppError> {
    state.store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check failed");
        AppError::Unavailable(e.to_string())
    })?;
    Ok(Json(Health {
        status: "ready".into(),
        database: Some(state.store.backend().into()),
        replica: state.store.stats().replica.map(|r| r.state),
        version: env!("CARGO_PKG_VERSION").into(),
    }))
}
