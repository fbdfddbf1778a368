//! Sanctions: the public record of supervision measures.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::params::{self, Params};
use super::views::{ListMeta, SanctionView};
use super::{Page, Scan, collect_page};
use crate::domain::code::Code;
use crate::domain::sanction::{NegativeList, Sanction, SubjectKind};
use crate::http::problem::{AppError, Problem};
use crate::http::state::AppState;
use crate::store::{SanctionRowFilter, today};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListSanctionsParams {
    /// committee, organizing_unit, applicant, expert, staff, employer, intermediary or website.
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
                    format!("unknown subject kind {k:?}; expected committee, organizing_unit, applicant, expert, staff, employer, intermediary or website"),
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NegativeListParams {
    /// One list: applicants, employers, evaluation_bodies, experts or staff (all five when absent).
    #[param(value_type = Option<crate::domain::sanction::NegativeList>, inline)]
    list: Option<String>,
    /// The day the entries are in force on (default today).
    #[param(value_type = Option<String>, format = Date)]
    in_force_on: Option<String>,
}

/// One negative list and its entries in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct NegativeListView {
    pub list: NegativeList,
    pub name_zh: String,
    /// Sanctions in force against its subjects, each with its legal basis and record period
    /// (`effective_from`–`effective_until`; a dishonesty record lasts 3 years).
    pub entries: Vec<SanctionView>,
    /// More entries are in force than one answer lists (`/api/v1/sanctions` pages through all).
    pub truncated: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NegativeLists {
    pub lists: Vec<NegativeListView>,
    pub as_of: crate::domain::Date,
}

/// The most entries one list shows.
const LIST_ENTRIES: u32 = 500;

/// The five negative lists (负面清单): sanctions in force against applicants, employers,
/// committees and their organizing units, experts and staff.
#[utoipa::path(get, path = "/api/v1/negative-lists", tag = "sanctions", params(NegativeListParams),
    responses((status = 200, body = NegativeLists), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn negative_lists(
    State(state): State<AppState>,
    Params(p): Params<NegativeListParams>,
) -> Result<Json<NegativeLists>, AppError> {
    let only = params::text(&p.list)
        .map(|l| {
            NegativeList::parse(l).ok_or_else(|| {
                AppError::invalid(
                    "list",
                    "unknown_list",
                    format!("未知的负面清单“{l}”"),
                    format!("unknown list {l:?}; expected applicants, employers, evaluation_bodies, experts or staff"),
                )
            })
        })
        .transpose()?;
    let as_of = params::optional_date("in_force_on", &p.in_force_on)?.unwrap_or_else(today);
    let mut lists = Vec::new();
    for list in NegativeList::ALL.into_iter().filter(|l| only.is_none_or(|o| o == *l)) {
        let mut entries = Vec::new();
        let mut truncated = false;
        for kind in list.subject_kinds() {
            let filter = SanctionRowFilter { subject_kind: Some(*kind), ..SanctionRowFilter::default() };
            let found = state.store.sanctions_after(&filter, None, LIST_ENTRIES).await?;
            truncated |= found.len() == LIST_ENTRIES as usize;
            entries.extend(found.iter().filter(|s| s.in_force_on(as_of)).map(|s| SanctionView::new(s, as_of)));
        }
        lists.push(NegativeListView { list, name_zh: list.name_zh().to_string(), entries, truncated });
    }
    Ok(Json(NegativeLists { lists, as_of }))
}
