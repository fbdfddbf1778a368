//! Sanctions: the public record of supervision measures.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::params::{self, Params};
use super::views::{ListMeta, SanctionView};
use super::{Page, Scan, collect_page};
use crate::domain::code::Code;
use crate::domain::sanction::{Sanction, SubjectKind};
use crate::http::problem::{AppError, Problem};
use crate::http::state::AppState;
use crate::store::{SanctionRowFilter, today};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListSanctionsParams {
    /// committee, organizing_unit, applicant, expert, staff, intermediary or website.
    #[param(value_type = Option<crate::domain::sanction::SubjectKind>, inline)]
    subject_kind: Option<String>,
    /// Only sanctions against this committee.
    committee: Option<String>,
    /// 6-digit GB/T 2260 code: sanctions concerning this region's subtree.
    #[param(pattern = r"^[0-9]{6}$")]
    region: Option<String>,
    /// Only sanctions in force on this date (YYYY-MM-DD).
    #[param(value_type = Option<String>, format = Date)]
    in_force_on: Option<String>,
    /// Substring of the subject's name, the summary or the document number.
    q: Option<String>,
    cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SanctionList {
    pub sanctions: Vec<SanctionView>,
    pub meta: ListMeta,
}

/// Search sanctions.
#[utoipa::path(get, path = "/api/v1/sanctions", tag = "sanctions", params(ListSanctionsParams),
    responses((status = 200, body = SanctionList), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list_sanctions(
    State(state): State<AppState>,
    Params(p): Params<ListSanctionsParams>,
) -> Result<Json<SanctionList>, AppError> {
    let subject_kind = params::text(&p.subject_kind)
        .map(|k| {
            SubjectKind::parse(k).ok_or_else(|| {
                AppError::invalid(
                    "subject_kind",
                    "unknown_subject_kind",
                    format!("未知的对象类型“{k}”"),
                    format!("unknown subject kind {k:?}; expected committee, organizing_unit, applicant, expert, staff, intermediary or website"),
                )
            })
        })
        .transpose()?;
    let filter = SanctionRowFilter {
        subject_kind,
        committee_id: params::text(&p.committee).map(str::to_string),
        region: params::text(&p.region).map(|r| params::region("region", r)).transpose()?,
        q: params::text(&p.q).map(str::to_string),
    };
    let in_force_on = params::optional_date("in_force_on", &p.in_force_on)?;
    let limit = params::limit(&p.limit)?;
    let cursor = params::cursor(&p.cursor)?;
    let store = state.store.clone();
    let scan = Scan::for_page(limit, in_force_on.is_some(), state.scan_budget);
    let Page { items, next_cursor, partial } = collect_page(
        cursor,
        limit,
        scan,
        |s: &Sanction| in_force_on.is_none_or(|d| s.in_force_on(d)),
        |after, n| {
            let store = store.clone();
            let filter = filter.clone();
            async move { store.sanctions_after(&filter, after.as_deref(), n).await }
        },
        |s| s.id.clone(),
    )
    .await?;
    let as_of = in_force_on.unwrap_or_else(today);
    let sanctions: Vec<SanctionView> = items.iter().map(|s| SanctionView::new(s, as_of)).collect();
    Ok(Json(SanctionList {
        meta: ListMeta { count: sanctions.len(), next_cursor, partial, as_of: Some(as_of) },
        sanctions,
    }))
}
