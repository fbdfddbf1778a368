//! Public notices (公示) as the public sees them: open or closed today.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::params::{self, Params};
use super::views::ListMeta;
use super::{Page, Scan, collect_page};
use crate::domain::Date;
use crate::domain::notice::{Notice, NoticeState};
use crate::http::extract::Path;
use crate::http::problem::{AppError, Problem};
use crate::http::state::AppState;
use crate::store::{NoticeFilter, today};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListNoticesParams {
    /// Only this committee's notices.
    committee: Option<String>,
    /// Only the notices of this evaluation session.
    session: Option<String>,
    cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeView {
    #[serde(flatten)]
    pub notice: Notice,
    /// Upcoming, open or closed on `as_of`.
    pub state: NoticeState,
    pub as_of: Date,
}

impl NoticeView {
    fn new(notice: Notice, as_of: Date) -> NoticeView {
        NoticeView { state: notice.state_on(as_of), notice, as_of }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoticeList {
    pub notices: Vec<NoticeView>,
    pub meta: ListMeta,
}

/// List public notices of evaluation results.
#[utoipa::path(get, path = "/api/v1/notices", tag = "sessions", params(ListNoticesParams),
    responses((status = 200, body = NoticeList), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list_notices(
    State(state): State<AppState>,
    Params(p): Params<ListNoticesParams>,
) -> Result<Json<NoticeList>, AppError> {
    let filter = NoticeFilter {
        id: None,
        committee_id: params::text(&p.committee).map(str::to_string),
        session_id: params::text(&p.session).map(str::to_string),
    };
    let limit = params::limit(&p.limit)?;
    let cursor = params::cursor(&p.cursor)?;
    let store = state.store.clone();
    let Page { items, next_cursor, partial } = collect_page(
        cursor,
        limit,
        Scan::for_page(limit, false, state.scan_budget),
        |_: &Notice| true,
        |after, n| {
            let (store, filter) = (store.clone(), filter.clone());
            async move { store.notices_after(&filter, after.as_deref(), n).await }
        },
        |n| n.id.clone(),
    )
    .await?;
    let as_of = today();
    let notices: Vec<NoticeView> = items.into_iter().map(|n| NoticeView::new(n, as_of)).collect();
    Ok(Json(NoticeList { meta: ListMeta { count: notices.len(), next_cursor, partial, as_of: Some(as_of) }, notices }))
}

/// One public notice.
#[utoipa::path(get, path = "/api/v1/notices/{id}", tag = "sessions", params(("id" = String, Path, description = "Notice id")),
    responses((status = 200, body = NoticeView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_notice(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<NoticeView>, AppError> {
    let filter = NoticeFilter { id: Some(id.clone()), ..NoticeFilter::default() };
    let notice =
        state.store.notices_after(&filter, None, 1).await?.pop().ok_or_else(|| AppError::not_found("notice", &id))?;
    Ok(Json(NoticeView::new(notice, today())))
}
