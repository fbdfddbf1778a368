//! Committee search and a committee's page.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::registry::SanctionRow;
use axum::body::Bytes;

use super::{
    Lang, authorization_words, html_bytes, level_words, problem_page, render, render_string, status_words, switch,
};
use crate::domain::authority::AuthorityGraph;
use crate::domain::authorization::{Action, Scope};
use crate::domain::catalog::{Catalog, Level};
use crate::domain::code::Code;
use crate::domain::committee::{CommitteeRecord, CommitteeStatus};
use crate::domain::coverage::{CoverageQuery, coverage};
use crate::domain::search::{search_words, web_domain};
use crate::http::extract::Path;
use crate::http::page_cache::Rendered;
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
    searched: bool,
    committees: Vec<CommitteeRow>,
    rows: Vec<SanctionRow>,
}

/// Committees whose names, credit code or web domains match the search, and the sanctions
/// that mention it: "评审中心 X" is no committee, but its sanction is found.
pub async fn committees(State(state): State<AppState>, Query(q): Query<SearchQuery>) -> Response {
    let l = Lang::from_query(q.lang.as_deref());
    let text = q.q.as_deref().map(str::trim).unwrap_or_default().to_string();
    let words = search_words(&text);
    if words.is_empty() {
        let page = CommitteesPage {
            l,
            switch_href: switch("/committees", l),
            q: text,
            searched: false,
            committees: vec![],
            rows: vec![],
        };
        return render(&page);
    }
    // Sanctions match the whole phrase (a summary quotes the name an impostor used), or its
    // longest word when the phrase was split.
    let phrase =
        web_domain(&text).unwrap_or_else(|| words.split(' ').max_by_key(|w| w.len()).unwrap_or(&words).to_string());
    let committee_filter = CommitteeRowFilter { q: Some(words), ..CommitteeRowFilter::default() };
    let sanction_filter = SanctionRowFilter { q: Some(phrase), ..SanctionRowFilter::default() };
    let found = async {
        let records = state.store.committees_after(&committee_filter, None, SEARCH_ROWS).await?;
        let graph = state.store.authority_graph().await?;
        let sanctions = state.store.sanctions_after(&sanction_filter, None, SEARCH_ROWS).await?;
        Ok::<_, AppError>((records, graph, sanctions))
    };
    let (records, graph, sanctions) = match found.await {
        Ok(found) => found,
        Err(e) => return problem_page(e, l, "/committees"),
    };
    let day = today();
    let committees = records
        .iter()
        .map(|r| CommitteeRow {
            id: r.committee.id.clone(),
            name: r.committee.name.clone(),
            region_name: Catalog::get().region_name(&r.committee.region),
            status: status_words(r.status_on(day, &graph), l).to_string(),
        })
        .collect();
    render(&CommitteesPage {
        l,
        switch_href: switch("/committees", l),
        searched: true,
        q: text,
        committees,
        rows: sanctions.iter().map(|s| SanctionRow::new(s, l)).collect(),
    })
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
        return Ok(page);
    }
    let record = state.store.committee(id).await?.ok_or_else(|| AppError::not_found("committee", id))?;
    let graph = state.store.authority_graph().await?;
    if let Some(page) = state.pages.current(&key, &record, Some(&graph), version).filter(|_| !asked) {
        return Ok(page);
    }
    let answer = coverage_answer(&record, &graph, q, l)?;
    let page = Bytes::from(render_committee(&record, &graph, q, l, path, answer)?);
    if !asked {
        state.pages.keep(key, Rendered { record, graph: Some(graph), version, body: page.clone() });
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
    let series_choices = Catalog::get()
        .series()
        .iter()
        .map(|s| Choice {
            value: s.code.clone(),
            words: l.t(&s.name_zh, &s.name_en).to_string(),
            selected: q.series.as_deref() == Some(s.code.as_str()),
        })
        .collect();
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
    // A form sends its empty fields: empty means not given.
    let filled = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
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
        let series = catalog
            .series_by_code(&a.terms_on(today()).series)
            .map_or(String::new(), |s| l.t(&s.name_zh, &s.name_en).to_string());
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
        let measure = match l {
            Lang::Zh => s.measure.name_zh().to_string(),
            Lang::En => s.measure.code().replace('_', " "),
        };
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
