//! Evaluation sessions as the public sees them: when a committee met, for what, and its pass
//! rate, flagged where it is above the cap its supervisor set.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::params::{self, Params};
use super::views::ListMeta;
use super::{Page, Scan, collect_page};
use crate::domain::session::EvaluationSession;
use crate::http::extract::Path;
use crate::http::problem::{AppError, Problem};
use crate::http::state::AppState;
use crate::store::SessionFilter;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListSessionsParams {
    /// Only this committee's sessions.
    committee: Option<String>,
    /// Meeting on or after this date (YYYY-MM-DD).
    #[param(value_type = Option<String>, format = Date)]
    from: Option<String>,
    /// Meeting on or before this date (YYYY-MM-DD).
    #[param(value_type = Option<String>, format = Date)]
    until: Option<String>,
    cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
}

/// A session with what follows from it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    #[serde(flatten)]
    pub session: EvaluationSession,
    /// 通过率 of the outcome, all applicants; absent before the outcome.
    pub pass_rate: Option<f64>,
    /// The pass rate is above the cap set for the session.
    pub pass_rate_flagged: bool,
    /// On-site supervision (shown for one session, not in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visits: Option<Vec<crate::domain::supervisor::Visit>>,
    /// 收到信访件数量 / 已核查 (shown for one session, not in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complaints: Option<crate::domain::complaint::ComplaintCounts>,
}

impl SessionView {
    fn new(session: EvaluationSession) -> SessionView {
        let pass_rate = session.outcome.as_ref().and_then(|o| o.total().pass_rate());
        let pass_rate_flagged = session.pass_rate_flagged();
        SessionView { session, pass_rate, pass_rate_flagged, visits: None, complaints: None }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    pub sessions: Vec<SessionView>,
    pub meta: ListMeta,
}

/// List evaluation sessions, by committee and meeting date.
#[utoipa::path(get, path = "/api/v1/sessions", tag = "sessions", params(ListSessionsParams),
    responses((status = 200, body = SessionList), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list_sessions(
    State(state): State<AppState>,
    Params(p): Params<ListSessionsParams>,
) -> Result<Json<SessionList>, AppError> {
    let filter = SessionFilter {
        committee_id: params::text(&p.committee).map(str::to_string),
        meets_from: params::optional_date("from", &p.from)?,
        meets_until: params::optional_date("until", &p.until)?,
    };
    let limit = params::limit(&p.limit)?;
    let cursor = params::cursor(&p.cursor)?;
    let store = state.store.clone();
    let Page { items, next_cursor, partial } = collect_page(
        cursor,
        limit,
        Scan::for_page(limit, false, state.scan_budget),
        |_: &EvaluationSession| true,
        |after, n| {
            let (store, filter) = (store.clone(), filter.clone());
            async move { store.sessions_after(&filter, after.as_deref(), n).await }
        },
        |s| s.id.clone(),
    )
    .await?;
    let sessions: Vec<SessionView> = items.into_iter().map(SessionView::new).collect();
    Ok(Json(SessionList { meta: ListMeta { count: sessions.len(), next_cursor, partial, as_of: None }, sessions }))
}

/// One evaluation session and its outcome.
#[utoipa::path(get, path = "/api/v1/sessions/{id}", tag = "sessions", params(("id" = String, Path, description = "Session id")),
    responses((status = 200, body = SessionView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_session(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<SessionView>, AppError> {
    let session = state.store.session(&id).await?.ok_or_else(|| AppError::not_found("session", &id))?;
    let visits = state.store.visits(&id).await?;
    let complaints = state.store.complaint_counts(&id).await?;
    Ok(Json(SessionView { visits: Some(visits), complaints: Some(complaints), ..SessionView::new(session) }))
}
