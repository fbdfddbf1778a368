//! Committees: search, detail, and the coverage question.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;

use crate::http::extract::Path;
use axum::http::Uri;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::page_cache::{Kept, Rendered};
use super::params::{self, Params};
use super::views::{AuthorizationView, CommitteeView, ListMeta};
use super::{Page, Scan, collect_page};
use crate::domain::Date;
use crate::domain::catalog::Level;
use crate::domain::committee::CommitteeStatus;
use crate::domain::coverage::{CoverageQuery, coverage};
use crate::domain::reason::Reason;
use crate::http::problem::{AppError, Problem};
use crate::http::state::AppState;
use crate::store::{CommitteeRowFilter, today};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListCommitteesParams {
    /// Words separated by spaces (up to 6), each a part of the committee's or its organizing
    /// unit's name (Chinese), of their pinyin in lower case (syllables run together, e.g.
    /// `changchun`, or first letters, e.g. `ccs`) or of one of its official web domains, or the
    /// organizing unit's whole unified social credit code.
    q: Option<String>,
    /// 6-digit GB/T 2260 code: committees located inside this region.
    #[param(pattern = r"^[0-9]{6}$")]
    region: Option<String>,
    /// Series code: committees holding an authorization (current or past) for this series.
    series: Option<String>,
    /// Level: committees holding an authorization (current or past) that includes this level,
    /// within what its grantor could lawfully grant.
    #[param(value_type = Option<crate::domain::catalog::Level>, inline)]
    level: Option<String>,
    /// Derived status on `as_of`, counting an authorization only for what its grantor could
    /// lawfully grant: authorized, grantor_lacked_competence, pending, expired, suspended,
    /// withdrawn, unauthorized.
    #[param(value_type = Option<crate::domain::committee::CommitteeStatus>, inline)]
    status: Option<String>,
    /// Approving authority id.
    authority: Option<String>,
    /// Derive statuses as of this date (YYYY-MM-DD); today (Beijing time) by default.
    #[param(value_type = Option<String>, format = Date)]
    as_of: Option<String>,
    /// `meta.next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommitteeList {
    pub committees: Vec<CommitteeView>,
    pub meta: ListMeta,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommitteeEnvelope {
    pub committee: CommitteeView,
    pub as_of: Date,
}

/// Search committees.
#[utoipa::path(get, path = "/api/v1/committees", tag = "committees", params(ListCommitteesParams),
    responses((status = 200, body = CommitteeList), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list_committees(
    State(state): State<AppState>,
    Params(p): Params<ListCommitteesParams>,
) -> Result<Json<CommitteeList>, AppError> {
    let series = params::text(&p.series).map(|s| params::series("series", s)).transpose()?;
    let filter = CommitteeRowFilter {
        q: params::text(&p.q).map(str::to_string),
        region: params::text(&p.region).map(|r| params::region("region", r)).transpose()?,
        authority_id: params::text(&p.authority).map(str::to_string),
        series: series.clone(),
    };
    let level = params::text(&p.level).map(|l| params::level("level", l)).transpose()?;
    let status = params::text(&p.status).map(|s| params::committee_status("status", s)).transpose()?;
    let as_of = params::optional_date("as_of", &p.as_of)?.unwrap_or_else(today);
    let limit = params::limit(&p.limit)?;
    let cursor = params::cursor(&p.cursor)?;

    let found = find(&state, &Search { filter, level, status, as_of }, cursor, limit).await?;
    let (graph, Page { items, next_cursor, partial }) = (found.graph, found.page);
    let committees: Vec<CommitteeView> = items.iter().map(|r| CommitteeView::new(r, as_of, &graph)).collect();
    Ok(Json(CommitteeList {
        meta: ListMeta { count: committees.len(), next_cursor, partial, as_of: Some(as_of) },
        committees,
    }))
}

/// A committee search: what the database filters, and what is derived as of a date.
pub struct Search {
    pub filter: CommitteeRowFilter,
    /// Holding an authorization that includes this level (with `filter.series`, of that series),
    /// within what its grantor could lawfully grant.
    pub level: Option<crate::domain::catalog::Level>,
    pub status: Option<CommitteeStatus>,
    pub as_of: Date,
}

pub struct Found {
    pub graph: std::sync::Arc<crate::domain::authority::AuthorityGraph>,
    pub page: Page<crate::domain::committee::CommitteeRecord>,
}

/// One page of the committees a search finds, read within the scan budget: the API's list and
/// the search page both use it, so both apply the same rules.
pub async fn find(state: &AppState, search: &Search, cursor: Option<String>, limit: u32) -> Result<Found, AppError> {
    let graph = state.store.authority_graph().await?;
    let (series, level, status, as_of) = (search.filter.series.as_deref(), search.level, search.status, search.as_of);
    let wanted = |r: &crate::domain::committee::CommitteeRecord| {
        (series.is_none() && level.is_none() || r.authorized_for(series, level, as_of, &graph))
            && status.is_none_or(|s| r.status_on(as_of, &graph) == s)
    };
    let store = state.store.clone();
    let scan = Scan::for_page(limit, series.is_some() || level.is_some() || status.is_some(), state.scan_budget);
    let page = collect_page(
        cursor,
        limit,
        scan,
        wanted,
        |after, n| {
            let store = store.clone();
            let filter = search.filter.clone();
            async move { store.committees_after(&filter, after.as_deref(), n).await }
        },
        |r| r.committee.id.clone(),
    )
    .await?;
    Ok(Found { graph, page })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CommitteeParams {
    /// Derive statuses as of this date (YYYY-MM-DD); today by default.
    #[param(value_type = Option<String>, format = Date)]
    as_of: Option<String>,
}

/// One committee: its organizing unit, authorizations (current and past, with history) and sanctions.
#[utoipa::path(get, path = "/api/v1/committees/{id}", tag = "committees",
    params(("id" = String, Path, description = "Committee id"), CommitteeParams),
    responses((status = 200, body = CommitteeEnvelope), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_committee(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Params(p): Params<CommitteeParams>,
) -> Result<Response, AppError> {
    let as_of = params::optional_date("as_of", &p.as_of)?.unwrap_or_else(today);
    let key = format!("committee\u{0}{id}\u{0}{as_of}");
    // Read before the record: if it has not moved when the page is next asked for, the record
    // the page was rendered from is still current.
    let version = state.store.committees_version();
    if let Some(page) = state.pages.unchanged(&key, version) {
        return Ok(json_bytes(page));
    }
    let record = state.store.committee(&id).await?.ok_or_else(|| AppError::not_found("committee", &id))?;
    // A page depends on the graph too: what each grantor could lawfully grant.
    let graph = state.store.authority_graph().await?;
    if let Some(page) = state.pages.current(&key, &record, Some(&graph), version) {
        return Ok(json_bytes(page));
    }
    let page = to_bytes(&CommitteeEnvelope { committee: CommitteeView::new(&record, as_of, &graph), as_of })?;
    let page = Kept::new(page);
    state.pages.keep(key, Rendered { record, graph: Some(graph), version, page: page.clone() });
    Ok(json_bytes(page))
}

fn to_bytes(value: &impl Serialize) -> Result<Bytes, AppError> {
    serde_json::to_vec(value).map(Bytes::from).map_err(|e| AppError::Internal(e.to_string()))
}

/// A kept answer, with its ETag (the ETag layer answers `If-None-Match` from it).
fn json_bytes(page: Kept) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json")), (header::ETAG, page.etag)], page.body)
        .into_response()
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CoverageParams {
    /// Series code (required).
    #[param(required = true)]
    series: Option<String>,
    /// Specialty (专业); omitted means "any specialty of the series".
    specialty: Option<String>,
    /// Level (required): junior_assistant, junior, intermediate, associate_senior, senior.
    #[param(value_type = crate::domain::catalog::Level, inline, required = true)]
    level: Option<String>,
    /// The applicant's region (6-digit code); omitted skips the region check.
    #[param(pattern = r"^[0-9]{6}$")]
    region: Option<String>,
    /// `true` when the applicant is the organizing unit's own staff.
    #[param(value_type = Option<bool>)]
    own_staff: Option<String>,
    /// The evaluation date (YYYY-MM-DD); today by default.
    #[param(value_type = Option<String>, format = Date)]
    on: Option<String>,
}

/// The question asked, echoed back with the defaults filled in.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageQueryView {
    pub series: String,
    pub specialty: Option<String>,
    pub level: Level,
    pub region: Option<String>,
    pub own_staff: bool,
    pub on: Date,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageResult {
    pub committee_id: String,
    pub query: CoverageQueryView,
    pub covered: bool,
    /// Why not (empty when covered), with stable codes: no_authorization, series_not_covered,
    /// specialty_not_covered, level_not_covered, region_not_covered, scope_own_staff_only,
    /// not_yet_valid, expired, suspended, withdrawn, grantor_lacked_competence.
    pub reasons: Vec<Reason>,
    /// The authorization the answer rests on: the covering one, or the closest one of the
    /// same series that did not cover.
    pub authorization: Option<AuthorizationView>,
}

/// Was this committee authorized to evaluate series S, specialty P, level L, for an applicant from region R, on date D?
#[utoipa::path(get, path = "/api/v1/committees/{id}/coverage", tag = "committees",
    params(("id" = String, Path, description = "Committee id"), CoverageParams),
    responses((status = 200, body = CoverageResult), (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_coverage(
    State(state): State<AppState>,
    Path(id): Path<String>,
    uri: Uri,
) -> Result<Response, AppError> {
    // The same query string on the same day, against the same record and graph, has the same answer.
    let key = format!("coverage\u{0}{id}\u{0}{}\u{0}{}", today(), uri.query().unwrap_or_default());
    let version = state.store.committees_version();
    if let Some(answer) = state.pages.unchanged(&key, version) {
        return Ok(json_bytes(answer));
    }
    let record = state.store.committee(&id).await?.ok_or_else(|| AppError::not_found("committee", &id))?;
    let graph = state.store.authority_graph().await?;
    if let Some(answer) = state.pages.current(&key, &record, Some(&graph), version) {
        return Ok(json_bytes(answer));
    }
    // Parsed only when the answer is not kept: a kept answer's query was valid.
    let p: CoverageParams = params::from_uri(&uri)?;
    let series = params::series("series", params::required("series", &p.series)?)?;
    let level = params::level("level", params::required("level", &p.level)?)?;
    let region = params::text(&p.region).map(|r| params::region("region", r)).transpose()?;
    let specialty = params::text(&p.specialty).map(str::to_string);
    let own_staff = params::boolean("own_staff", &p.own_staff)?;
    let on = params::optional_date("on", &p.on)?.unwrap_or_else(today);

    let query = CoverageQuery {
        series: &series,
        specialty: specialty.as_deref(),
        level,
        region: region.as_deref(),
        own_staff,
        on,
    };
    let answer = coverage(&record, &graph, &query);
    let body = to_bytes(&CoverageResult {
        committee_id: id,
        covered: answer.covered,
        reasons: answer.reasons,
        authorization: answer.authorization.map(|a| AuthorizationView::new(a, on, &graph, &record.committee.region)),
        query: CoverageQueryView { series: series.clone(), specialty, level, region, own_staff, on },
    })?;
    let answer = Kept::new(body);
    state.pages.keep(key, Rendered { record, graph: Some(graph), version, page: answer.clone() });
    Ok(json_bytes(answer))
}
