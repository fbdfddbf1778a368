//! The acting authority's own audit trail.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::extract::Authenticated;
use crate::http::params::{self, Params};
use crate::http::problem::{AppError, Problem};
use crate::http::state::AppState;
use crate::store::{Event, EventFilter};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventParams {
    /// Event kind, e.g. `authorization.withdrawn`.
    kind: Option<String>,
    /// Only events about this entity.
    entity_id: Option<String>,
    cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventList {
    pub events: Vec<Event>,
    pub meta: crate::http::views::ListMeta,
}

/// The acting authority's own audit trail, oldest first.
#[utoipa::path(get, path = "/api/v1/admin/events", tag = "admin", security(("bearer" = [])), params(EventParams),
    responses((status = 200, body = EventList), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn list_events(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    Params(p): Params<EventParams>,
) -> Result<Json<EventList>, AppError> {
    let limit = params::limit(&p.limit)?;
    let after = params::cursor(&p.cursor)?
        .map(|c| {
            c.parse::<i64>()
                .map_err(|_| AppError::invalid("cursor", "invalid_cursor", "分页游标无效", "malformed cursor"))
        })
        .transpose()?;
    let filter = EventFilter {
        authority_id: Some(actor.authority_id.clone()),
        kind: params::text(&p.kind).map(str::to_string),
        entity_id: params::text(&p.entity_id).map(str::to_string),
        ..Default::default()
    };
    let mut events = state.store.events_after(&filter, after, limit + 1).await?;
    let next_cursor = if events.len() > limit as usize {
        events.truncate(limit as usize);
        events.last().map(|e| params::encode_cursor(&e.seq.to_string()))
    } else {
        None
    };
    Ok(Json(EventList {
        meta: crate::http::views::ListMeta { count: events.len(), next_cursor, partial: false, as_of: None },
        events,
    }))
}
