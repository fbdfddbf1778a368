//! Spot-check draws as anyone can check them, and each authority's inspection cycle.

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::domain::Date;
use crate::domain::committee::CommitteeStatus;
use crate::domain::draw::{self, DrawPlan, Inspection};
use crate::http::extract::Path;
use crate::http::params::{self, Params};
use crate::http::problem::{AppError, Problem};
use crate::http::state::AppState;
use crate::http::views::ListMeta;
use crate::http::{Page, Scan, collect_page};
use crate::store::{CommitteeRowFilter, DrawSeed, InspectionFilter, today};

/// The most inspections a draw lists, and the most committees an inspection cycle covers.
const MAX_LISTED: u32 = 10_000;
const PAGE: u32 = 1_000;

/// A plan, the checkpoint that seeds it, the committees drawn and the inspections so far.
#[derive(Debug, Serialize, ToSchema)]
pub struct DrawView {
    pub plan: DrawPlan,
    /// The first checkpoint signed after the plan's log entry; absent until it is signed
    /// (about a second).
    pub seed_checkpoint: Option<DrawSeed>,
    /// SHA-256 (hex) of `"zhicheng spot-check draw v1\n"` followed by the checkpoint note.
    pub seed: Option<String>,
    /// The committees drawn, in draw order: eligible ids ranked by
    /// SHA-256(seed ‖ plan id ‖ "\n" ‖ committee id), the lowest `count`.
    pub selected: Option<Vec<String>>,
    pub inspections: Vec<Inspection>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListDrawsParams {
    cursor: Option<String>,
    /// Page size, 1 to 20 (default 20): each plan's draw is recomputed, over up to
    /// `MAX_ELIGIBLE` committees.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 20)]
    limit: Option<String>,
}

/// Plans per page of `GET /api/v1/draws`.
const DRAWS_A_PAGE: u32 = 20;

/// A plan and the committees its draw selected (absent until the seeding checkpoint is signed).
#[derive(Debug, Serialize, ToSchema)]
pub struct DrawSummary {
    pub plan: DrawPlan,
    pub selected: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DrawList {
    pub draws: Vec<DrawSummary>,
    pub meta: ListMeta,
}

/// The committees a plan's draw selected, once its seeding checkpoint is signed.
pub fn selected(plan: &DrawPlan, seed: Option<&DrawSeed>) -> Option<Vec<String>> {
    seed.map(|c| draw::select(plan, &draw::seed(&c.note)))
}

/// List spot-check plans, each with the committees its draw selected; `/api/v1/draws/{id}`
/// shows one with its seed and inspections.
#[utoipa::path(get, path = "/api/v1/draws", tag = "supervision", params(ListDrawsParams),
    responses((status = 200, body = DrawList), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list_draws(
    State(state): State<AppState>,
    Params(p): Params<ListDrawsParams>,
) -> Result<Json<DrawList>, AppError> {
    let limit = if params::text(&p.limit).is_none() { DRAWS_A_PAGE } else { params::limit(&p.limit)? };
    if limit > DRAWS_A_PAGE {
        return Err(AppError::invalid(
            "limit",
            "out_of_range",
            format!("每页最多 {DRAWS_A_PAGE} 个抽查计划"),
            format!("limit must be between 1 and {DRAWS_A_PAGE}"),
        ));
    }
    let cursor = params::cursor(&p.cursor)?;
    let store = state.store.clone();
    let Page { items, next_cursor, partial } = collect_page(
        cursor,
        limit,
        Scan::for_page(limit, false, state.scan_budget),
        |_: &(DrawPlan, Option<DrawSeed>)| true,
        |after, n| {
            let store = store.clone();
            async move { store.draw_plans_after(after.as_deref(), n).await }
        },
        |(plan, _)| plan.id.clone(),
    )
    .await?;
    let draws: Vec<DrawSummary> =
        items.into_iter().map(|(plan, seed)| DrawSummary { selected: selected(&plan, seed.as_ref()), plan }).collect();
    Ok(Json(DrawList { meta: ListMeta { count: draws.len(), next_cursor, partial, as_of: None }, draws }))
}

/// A spot-check draw: recompute it from the plan (in the log at `plan.log_index`) and the
/// signed checkpoint note.
#[utoipa::path(get, path = "/api/v1/draws/{id}", tag = "supervision", params(("id" = String, Path, description = "Plan id")),
    responses((status = 200, body = DrawView), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_draw(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<DrawView>, AppError> {
    let (plan, seed_checkpoint) = state.store.draw_plan(&id).await?.ok_or_else(|| AppError::not_found("draw", &id))?;
    let seed = seed_checkpoint.as_ref().map(|c| draw::seed(&c.note));
    let selected = seed.map(|seed| draw::select(&plan, &seed));
    let filter = InspectionFilter { plan_id: Some(id), committee_id: None };
    let inspections = state.store.inspections_after(&filter, None, MAX_LISTED).await?;
    Ok(Json(DrawView { plan, seed_checkpoint, seed: seed.map(hex::encode), selected, inspections }))
}

/// One committee's place in its authority's inspection cycle.
#[derive(Debug, Serialize, ToSchema)]
pub struct CycleEntry {
    pub committee_id: String,
    pub name: String,
    /// When it began evaluating: its earliest authorization's start.
    pub since: Date,
    pub last_inspected: Option<Date>,
    /// The last day of its cycle: it must be inspected by then.
    pub due: Date,
    pub overdue: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InspectionCycle {
    pub authority_id: String,
    /// 5 for a province (and the ministry), 3 for a city, 2 for a county.
    pub cycle_years: u32,
    pub as_of: Date,
    pub overdue: usize,
    /// The authorized committees the authority approved, soonest due first.
    pub committees: Vec<CycleEntry>,
}

/// The committees an authority approved that are authorized today, when each must next be
/// inspected, and which are overdue (随机抽查 must reach every one within the cycle).
#[utoipa::path(get, path = "/api/v1/authorities/{id}/inspection-cycle", tag = "supervision",
    params(("id" = String, Path, description = "Authority id")),
    responses((status = 200, body = InspectionCycle), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn inspection_cycle(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<InspectionCycle>, AppError> {
    let graph = state.store.authority_graph().await?;
    let level = graph.get(&id).ok_or_else(|| AppError::not_found("authority", &id))?.level;
    let as_of = today();
    let filter = CommitteeRowFilter { authority_id: Some(id.clone()), ..CommitteeRowFilter::default() };
    let mut records = Vec::new();
    let mut after: Option<String> = None;
    while records.len() < MAX_LISTED as usize {
        let page = state.store.committees_after(&filter, after.as_deref(), PAGE).await?;
        after = page.last().map(|r| r.committee.id.clone());
        let last_page = page.len() < PAGE as usize;
        records.extend(page.into_iter().filter(|r| r.status_on(as_of, &graph) == CommitteeStatus::Authorized));
        if last_page {
            break;
        }
    }
    let ids: HashSet<String> = records.iter().map(|r| r.committee.id.clone()).collect();
    let last: HashMap<String, Date> = state.store.last_inspected(&ids).await?.into_iter().collect();
    let mut committees: Vec<CycleEntry> = records
        .iter()
        .filter_map(|r| {
            let since = r
                .authorizations
                .iter()
                .filter_map(|a| a.history.first()?.terms.as_ref())
                .map(|t| t.valid_from)
                .min()?;
            let last_inspected = last.get(&r.committee.id).copied();
            let due = draw::next_due(since, last_inspected, level);
            Some(CycleEntry {
                committee_id: r.committee.id.clone(),
                name: r.committee.name.clone(),
                since,
                last_inspected,
                due,
                overdue: due < as_of,
            })
        })
        .collect();
    committees.sort_by(|a, b| (a.due, &a.committee_id).cmp(&(b.due, &b.committee_id)));
    Ok(Json(InspectionCycle {
        authority_id: id,
        cycle_years: draw::cycle_years(level),
        as_of,
        overdue: committees.iter().filter(|c| c.overdue).count(),
        committees,
    }))
}
