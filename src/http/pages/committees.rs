//! Committee search and a committee's page.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::registry::SanctionRow;
use axum::body::Bytes;

use super::{
    Lang, authorization_words, filled, html_bytes, level_words, measure_words, problem_page, render, render_string,
    series_words, status_words, switch,
};
use crate::domain::authority::AuthorityGraph;
use crate::domain::authorization::{Action, Scope};
use crate::domain::catalog::{Catalog, Level, NATIONWIDE};
use crate::domain::code::Code;
use crate::domain::committee::{CommitteeRecord, CommitteeStatus};
use crate::domain::coverage::{CoverageQuery, coverage};
use crate::domain::search::{search_words, web_domain};
use crate::http::committees::{Found, Search, find};
use crate::http::extract::Path;
use crate::http::page_cache::{Kept, Rendered};
use crate::http::params;
use crate::http::problem::AppError;
use crate::http::state::AppState;
use crate::http::views::CommitteeView;
use crate::store::{CommitteeRowFilter, SanctionRowFilter, today};

/// The most committees, and sanctions, a search lists.
const SEARCH_ROWS: u32 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct SearchQuery {
    lang: Option<String>,
    q: Option<String>,
    series: Option<String>,
    region: Option<String>,
    status: Option<String>,
    cursor: Option<String>,
}

struct CommitteeRow {
    id: String,
    name: String,
    region_name: String,
    status: String,
}

#[derive(Template)]
#[template(path = "committees.html")]
struct CommitteesPage {
    l: Lang,
    switch_href: String,
    q: String,
    series_choices: Vec<Choice>,
    region_choices: Vec<Choice>,
    status_choices: Vec<Choice>,
    searched: bool,
    committees: Vec<CommitteeRow>,
    next_href: Option<String>,
    rows: Vec<SanctionRow>,
}

/// The statuses a person filters by, in the order they matter to them.
const STATUSES: [CommitteeStatus; 7] = [
    CommitteeStatus::Authorized,
    CommitteeStatus::GrantorLackedCompetence,
    CommitteeStatus::Suspended,
    CommitteeStatus::Withdrawn,
    CommitteeStatus::Expired,
    CommitteeStatus::Pending,
    CommitteeStatus::Unauthorized,
];

/// Committees by words (names, credit code, web domains), series, province and status, a page
/// of 50 with a link to the next; with words, the sanctions that mention them too: "评审中心 X"
/// is no committee, but its sanction is found.
pub async fn committees(State(state): State<AppState>, Query(q): Query<SearchQuery>) -> Response {
    let l = Lang::from_query(q.lang.as_deref());
    match search_page(&state, &q, l).await {
        Ok(page) => render(&page),
        Err(e) => problem_page(e, l, "/committees"),
    }
}

async fn search_page(state: &AppState, q: &SearchQuery, l: Lang) -> Result<CommitteesPage, AppError> {
    let text = filled(&q.q).unwrap_or_default();
    let words = search_words(&text);
    let series = filled(&q.series).map(|s| params::series("series", &s)).transpose()?;
    let region = filled(&q.region).map(|r| params::region("region", &r)).transpose()?;
    let status = filled(&q.status).map(|s| params::committee_status("status", &s)).transpose()?;
    let catalog = Catalog::get();
    let choice = |value: &str, words: &str, current: &Option<String>| Choice {
        value: value.to_string(),
        words: words.to_string(),
        selected: current.as_deref() == Some(value),
    };
    let mut page = CommitteesPage {
        l,
        switch_href: switch("/committees", l),
        series_choices: series_choices(series.as_deref(), l),
        region_choices: catalog.region_children(NATIONWIDE).iter().map(|r| choice(&r.code, &r.name, &region)).collect(),
        status_choices: STATUSES
            .iter()
            .map(|s| choice(s.code(), status_words(*s, l), &status.map(|s| s.code().to_string())))
            .collect(),
        searched: false,
        committees: vec![],
        next_href: None,
        rows: vec![],
        q: text.clone(),
    };
    if words.is_empty() && series.is_none() && region.is_none() && status.is_none() {
        return Ok(page);
    }
    let filter = CommitteeRowFilter {
        q: Some(words.clone()).filter(|w| !w.is_empty()),
        region: region.clone(),
        series: series.clone(),
        ..CommitteeRowFilter::default()
    };
    let day = today();
    let search = Search { filter, level: None, status, as_of: day };
    let Found { graph, page: found } = find(state, &search, params::cursor(&q.cursor)?, SEARCH_ROWS).await?;
    page.searched = true;
    page.committees = found
        .items
        .iter()
        .map(|r| CommitteeRow {
            id: r.committee.id.clone(),
            name: r.committee.name.clone(),
            region_name: catalog.region_name(&r.committee.region),
            status: status_words(r.status_on(day, &graph), l).to_string(),
        })
        .collect();
    page.next_href = found.next_cursor.map(|cursor| {
        let mut query = vec![("lang", l.code().to_string()), ("cursor", cursor)];
        for (name, value) in [("q", Some(text.clone())), ("series", series.clone()), ("region", region.clone())] {
            query.extend(value.filter(|v| !v.is_empty()).map(|v| (name, v)));
        }
        query.extend(status.map(|s| ("status", s.code().to_string())));
        format!("/committees?{}", serde_urlencoded::to_string(query).unwrap_or_default())
    });
    if !words.is_empty() && q.cursor.is_none() {
        // Sanctions match the whole phrase (a summary quotes the name an impostor used), or its
        // longest word when the phrase was split.
        let phrase =
            web_domain(&text).unwrap_or_else(|| words.split(' ').max_by_key(|w| w.len()).unwrap_or(&words).to_string());
        let sanction_filter = SanctionRowFilter { q: Some(phrase), ..SanctionRowFilter::default() };
        let sanctions = state.store.sanctions_after(&sanction_filter, None, SEARCH_ROWS).await?;
        page.rows = sanctions.iter().map(|s| SanctionRow::new(s, l)).collect();
    }
    Ok(page)
}

/// One authorization's current terms as a row of the scope table: a cell per level.
struct ScopeRow {
    series: String,
    specialties: String,
    regions: String,
    cells: Vec<(&'static str, &'static str)>,
    valid: String,
    status: String,
}

struct TimelineEntry {
    date: String,
    words: String,
}

/// The catalog's series as a select's options, `current` selected.
fn series_choices(current: Option<&str>, l: Lang) -> Vec<Choice> {
    Catalog::get()
        .series()
        .iter()
        .map(|s| Choice {
            value: s.code.clone(),
            words: series_words(s, l),
            selected: current == Some(s.code.as_str()),
        })
        .collect()
}

struct Choice {
    value: String,
    words: String,
    selected: bool,
}

struct CoverageAnswerRow {
    covered: bool,
    reasons: Vec<String>,
}

#[derive(Template)]
#[template(path = "committee.html")]
struct CommitteePage {
    l: Lang,
    switch_href: String,
    c: CommitteeView,
    status: &'static str,
    status_class: &'static str,
    lacked_competence: bool,
    authority_name: String,
    levels: Vec<String>,
    scope: Vec<ScopeRow>,
    timeline: Vec<TimelineEntry>,
    sanctions: Vec<SanctionRow>,
    series_choices: Vec<Choice>,
    level_choices: Vec<Choice>,
    on: String,
    region: String,
    answer: Option<CoverageAnswerRow>,
}

/// The coverage question asked on a committee's page.
#[derive(Debug, Default, Deserialize)]
pub struct CommitteeQuery {
    lang: Option<String>,
    series: Option<String>,
    level: Option<String>,
    on: Option<String>,
    region: Option<String>,
}

/// `/committees/{id}`: the committee's scope (series × level × region), the timeline of its
/// authorizations and sanctions, its approving authority, a clear warning where that authority
/// lacked the competence, and the coverage question as a form.
pub async fn committee(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<CommitteeQuery>,
) -> Response {
    let l = Lang::from_query(q.lang.as_deref());
    let path = format!("/committees/{id}");
    match committee_page(&state, &id, &q, l, &path).await {
        Ok(page) => html_bytes(page),
        Err(e) => problem_page(e, l, &path),
    }
}

/// The committee's page; without a coverage question, kept like the API's answer for as long
/// as the record and graph it was rendered from are current.
async fn committee_page(
    state: &AppState,
    id: &str,
    q: &CommitteeQuery,
    l: Lang,
    path: &str,
) -> Result<Bytes, AppError> {
    let asked = q.series.is_some() || q.level.is_some();
    let key = format!("committee-page\u{0}{id}\u{0}{}\u{0}{}", l.code(), today());
    let version = state.store.committees_version();
    if let Some(page) = state.pages.unchanged(&key, version).filter(|_| !asked) {
        return Ok(page.body);
    }
    let record = state.store.committee(id).await?.ok_or_else(|| AppError::not_found("committee", id))?;
    let graph = state.store.authority_graph().await?;
    if let Some(page) = state.pages.current(&key, &record, Some(&graph), version).filter(|_| !asked) {
        return Ok(page.body);
    }
    let answer = coverage_answer(&record, &graph, q, l)?;
    let page = Bytes::from(render_committee(&record, &graph, q, l, path, answer)?);
    if !asked {
        state.pages.keep(key, Rendered { record, graph: Some(graph), version, page: Kept::new(page.clone()) });
    }
    Ok(page)
}

fn render_committee(
    record: &CommitteeRecord,
    graph: &AuthorityGraph,
    q: &CommitteeQuery,
    l: Lang,
    path: &str,
    answer: Option<CoverageAnswerRow>,
) -> Result<String, AppError> {
    let view = CommitteeView::new(record, today(), graph);
    let authority_name = graph.get(&view.authority_id).map_or(view.authority_id.clone(), |a| a.name.clone());
    let status_class = match view.status {
        CommitteeStatus::Authorized => "good",
        CommitteeStatus::Pending => "warn",
        _ => "bad",
    };
    let series_choices = series_choices(q.series.as_deref(), l);
    let level_choices = Level::ALL
        .iter()
        .map(|x| Choice {
            value: x.code().to_string(),
            words: level_words(*x, l),
            selected: q.level.as_deref() == Some(x.code()),
        })
        .collect();
    render_string(&CommitteePage {
        l,
        switch_href: switch(path, l),
        status: status_words(view.status, l),
        status_class,
        lacked_competence: view.status == CommitteeStatus::GrantorLackedCompetence
            || view.authorizations.iter().any(|a| !a.levels_beyond_grantor_competence.is_empty()),
        authority_name,
        levels: Level::ALL.iter().map(|x| level_words(*x, l)).collect(),
        scope: scope_rows(&view, l),
        timeline: timeline(record, l),
        sanctions: record.sanctions.iter().map(|s| SanctionRow::new(s, l)).collect(),
        series_choices,
        level_choices,
        on: q.on.clone().unwrap_or_else(|| today().to_string()),
        region: q.region.clone().unwrap_or_default(),
        answer,
        c: view,
    })
}

/// The answer to the page's coverage question; `None` when none was asked.
fn coverage_answer(
    record: &CommitteeRecord,
    graph: &AuthorityGraph,
    q: &CommitteeQuery,
    l: Lang,
) -> Result<Option<CoverageAnswerRow>, AppError> {
    let (Some(series), Some(level)) = (filled(&q.series), filled(&q.level)) else { return Ok(None) };
    let series = params::series("series", &series)?;
    let level = params::level("level", &level)?;
    let region = filled(&q.region).map(|r| params::region("region", &r)).transpose()?;
    let on = params::optional_date("on", &filled(&q.on))?.unwrap_or_else(today);
    let query =
        CoverageQuery { series: &series, specialty: None, level, region: region.as_deref(), own_staff: false, on };
    let answer = coverage(record, graph, &query);
    Ok(Some(CoverageAnswerRow {
        covered: answer.covered,
        reasons: answer.reasons.iter().map(|r| l.t(&r.message_zh, &r.message_en).to_string()).collect(),
    }))
}

fn scope_rows(view: &CommitteeView, l: Lang) -> Vec<ScopeRow> {
    let catalog = Catalog::get();
    view.authorizations
        .iter()
        .map(|a| {
            let cells = Level::ALL
                .iter()
                .map(|level| {
                    if a.levels_beyond_grantor_competence.contains(level) {
                        ("beyond", l.t("超越权限", "Beyond competence"))
                    } else if a.levels.contains(level) {
                        ("yes", l.t("可评审", "Yes"))
                    } else {
                        ("no", "—")
                    }
                })
                .collect();
            let regions = match &a.scope {
                Scope::OwnStaff { .. } => l.t("仅本单位人员", "Own staff only").to_string(),
                Scope::Regions { regions } => {
                    regions.iter().map(|r| catalog.region_name(r)).collect::<Vec<_>>().join("、")
                }
            };
            ScopeRow {
                series: l.t(&a.series_name, &a.series).to_string(),
                specialties: if a.specialties.is_empty() {
                    l.t("全部专业", "All specialties").to_string()
                } else {
                    a.specialties.join("、")
                },
                regions,
                cells,
                valid: format!("{} — {}", a.valid_from, a.valid_until),
                status: authorization_words(a.status, l).to_string(),
            }
        })
        .collect()
}

/// Every dated act about the committee, newest first: authorization records and sanctions.
fn timeline(record: &CommitteeRecord, l: Lang) -> Vec<TimelineEntry> {
    let catalog = Catalog::get();
    let mut entries: Vec<(crate::domain::Date, String)> = Vec::new();
    for a in &record.authorizations {
        let series = catalog.series_by_code(&a.terms_on(today()).series).map_or(String::new(), |s| series_words(s, l));
        for h in &a.history {
            let act = match h.action {
                Action::Granted => l.t("核准评审权限", "Authorized"),
                Action::Amended => l.t("变更评审权限", "Authorization amended"),
                Action::Suspended => l.t("暂停评审权限", "Authorization suspended"),
                Action::Reinstated => l.t("恢复评审权限", "Authorization reinstated"),
                Action::Withdrawn => l.t("收回评审权限", "Authorization withdrawn"),
            };
            entries.push((h.effective_on, format!("{act}：{series}（{}）", h.document_number)));
        }
    }
    for s in &record.sanctions {
        let measure = measure_words(s.measure, l);
        entries.push((s.effective_from, format!("{measure}：{}（{}）", s.summary, s.document_number)));
        if let Some(lift) = &s.lift {
            entries.push((
                lift.effective_on,
                format!("{}（{}）", l.t("解除处理", "Sanction lifted"), lift.document_number),
            ));
        }
    }
    entries.sort_by_key(|e| std::cmp::Reverse(e.0));
    entries.into_iter().map(|(date, words)| TimelineEntry { date: date.to_string(), words }).collect()
}
