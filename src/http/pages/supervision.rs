//! `/supervision`: evaluation sessions with their pass rates (flagged above the supervisor's
//! cap), the public notices of results, open or closed, and the spot-check draws with the
//! committees they selected: what the regulations ask to be checkable, for a person without
//! the API.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;

use super::{Lang, LangQuery, level_words, problem_page, render, switch};
use crate::domain::notice::NoticeState;
use crate::http::state::AppState;
use crate::store::{NoticeFilter, SessionFilter, today};

/// Rows each table lists (the API pages through all of them).
const ROWS: u32 = 50;
/// Plans the page shows, each with its selected committees.
const DRAWS: u32 = 20;
/// Drawn committees named per plan (the plan's JSON lists them all).
const NAMED: usize = 30;

struct SessionRow {
    committee_href: String,
    committee: String,
    meets_on: String,
    levels: String,
    applicants: u32,
    pass_rate: String,
    flagged: bool,
}

struct DrawRow {
    name: String,
    authority: String,
    eligible: usize,
    count: u32,
    /// The selected committees' links and names; `None` while the draw waits for its checkpoint.
    selected: Option<Vec<(String, String)>>,
    json_href: String,
}

struct NoticeRow {
    title: String,
    period: String,
    open: bool,
    state: String,
    complaint_channel: String,
}

#[derive(Template)]
#[template(path = "supervision.html")]
struct SupervisionPage {
    l: Lang,
    switch_href: String,
    sessions: Vec<SessionRow>,
    notices: Vec<NoticeRow>,
    draws: Vec<DrawRow>,
}

pub async fn supervision(State(state): State<AppState>, Query(q): Query<LangQuery>) -> Response {
    let l = Lang::from_query(q.lang.as_deref());
    match page(&state, l).await {
        Ok(page) => render(&page),
        Err(e) => problem_page(e.into(), l, "/supervision"),
    }
}

async fn page(state: &AppState, l: Lang) -> crate::store::StoreResult<SupervisionPage> {
    let sessions = state.store.sessions_after(&SessionFilter::default(), None, ROWS).await?;
    let mut rows = Vec::with_capacity(sessions.len());
    for s in &sessions {
        // Committee records come from the node's cache.
        let committee = state.store.committee(&s.committee_id).await?;
        let rate = s.outcome.as_ref().and_then(|o| o.total().pass_rate());
        rows.push(SessionRow {
            committee_href: format!("/committees/{}?lang={}", s.committee_id, l.code()),
            committee: committee.map_or_else(|| s.committee_id.clone(), |r| r.committee.name.clone()),
            meets_on: s.meets_on.to_string(),
            levels: s.levels.iter().map(|v| level_words(*v, l)).collect::<Vec<_>>().join("、"),
            applicants: s.applicants,
            pass_rate: rate
                .map_or_else(|| l.t("尚未公布", "not yet published").to_string(), |r| format!("{:.1}%", r * 100.0)),
            flagged: s.pass_rate_flagged(),
        });
    }
    let as_of = today();
    let notices = state.store.notices_after(&NoticeFilter::default(), None, ROWS).await?;
    let notices = notices
        .iter()
        .map(|n| {
            let state = n.state_on(as_of);
            NoticeRow {
                title: n.title.clone(),
                period: format!("{} — {}", n.published_on, n.ends_on),
                open: state == NoticeState::Open,
                state: match state {
                    NoticeState::Upcoming => l.t("未开始", "upcoming"),
                    NoticeState::Open => l.t("公示中", "open"),
                    NoticeState::Closed => l.t("已结束", "closed"),
                }
                .to_string(),
                complaint_channel: n.complaint_channel.clone(),
            }
        })
        .collect();
    let draws = draw_rows(state, l).await?;
    Ok(SupervisionPage { l, switch_href: switch("/supervision", l), sessions: rows, notices, draws })
}

/// The first plans by id with the committees their draws selected (at most `NAMED` named each).
async fn draw_rows(state: &AppState, l: Lang) -> crate::store::StoreResult<Vec<DrawRow>> {
    let plans = state.store.draw_plans_after(None, DRAWS).await?;
    let graph = state.store.authority_graph().await?;
    let mut rows = Vec::with_capacity(plans.len());
    for (plan, seed) in &plans {
        let selected = match crate::http::draws::selected(plan, seed.as_ref()) {
            None => None,
            Some(ids) => {
                let mut named = Vec::with_capacity(ids.len().min(NAMED));
                for id in ids.into_iter().take(NAMED) {
                    let committee = state.store.committee(&id).await?;
                    let name = committee.map_or_else(|| id.clone(), |r| r.committee.name.clone());
                    named.push((format!("/committees/{id}?lang={}", l.code()), name));
                }
                Some(named)
            }
        };
        rows.push(DrawRow {
            name: plan.name.clone(),
            authority: graph.get(&plan.authority_id).map_or_else(|| plan.authority_id.clone(), |a| a.name.clone()),
            eligible: plan.eligible.len(),
            count: plan.count,
            selected,
            json_href: format!("/api/v1/draws/{}", plan.id),
        });
    }
    Ok(rows)
}
