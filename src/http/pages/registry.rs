//! Registry pages: home, sanctions, authorities, the transparency log, about.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::{Lang, LangQuery, level_words, measure_words, problem_page, render, status_words, switch};
use crate::domain::authority::AuthorityLevel;
use crate::domain::catalog::Catalog;
use crate::domain::certificate::mask_name;
use crate::domain::code::Code;
use crate::domain::sanction::{Sanction, SanctionStatus, SubjectKind};
use crate::domain::search::search_words;
use crate::http::extract::Path;
use crate::http::problem::AppError;
use crate::http::state::AppState;
use crate::store::{AuthorityFilter, CommitteeRowFilter, SanctionRowFilter, today};

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    l: Lang,
    switch_href: String,
    checkpoint_size: Option<u64>,
    latest: Option<String>,
}

/// `/`: the search box, what the registry is, how fresh its data is.
pub async fn home(State(state): State<AppState>, Query(q): Query<LangQuery>) -> Response {
    let l = q.lang();
    let found = async {
        let checkpoint = state.store.latest_checkpoint().await?;
        let latest = freshness(&state, checkpoint.as_ref().map_or(0, |c| c.size)).await?;
        Ok::<_, AppError>((checkpoint, latest))
    };
    match found.await {
        Ok((checkpoint, latest)) => {
            render(&HomePage { l, switch_href: switch("/", l), checkpoint_size: checkpoint.map(|c| c.size), latest })
        }
        Err(e) => problem_page(e, l, "/"),
    }
}

/// The most rows a page lists: a page is for reading, bulk access is the API's.
const PAGE_ROWS: u32 = 50;

/// A sanction as a person reads it; individuals' names masked.
pub struct SanctionRow {
    pub subject: String,
    /// The committee's page, for a sanction against a committee.
    pub committee_id: Option<String>,
    pub kind: &'static str,
    pub measure: String,
    pub effective_from: String,
    pub status: &'static str,
    pub summary: String,
    pub document_number: String,
}

impl SanctionRow {
    pub fn new(s: &Sanction, l: Lang) -> SanctionRow {
        let individual = matches!(s.subject.kind, SubjectKind::Applicant | SubjectKind::Expert | SubjectKind::Staff);
        let name = s.subject.name.clone().or_else(|| s.subject.id.clone()).unwrap_or_default();
        SanctionRow {
            subject: if individual { mask_name(&name) } else { name },
            committee_id: (s.subject.kind == SubjectKind::Committee).then(|| s.subject.id.clone()).flatten(),
            kind: subject_kind_words(s.subject.kind, l),
            measure: measure_words(s.measure, l),
            effective_from: s.effective_from.to_string(),
            status: sanction_status_words(s.status_on(today()), l),
            summary: s.summary.clone(),
            document_number: s.document_number.clone(),
        }
    }
}

fn subject_kind_words(kind: SubjectKind, l: Lang) -> &'static str {
    match kind {
        SubjectKind::Committee => l.t("评委会", "Committee"),
        SubjectKind::OrganizingUnit => l.t("组建单位", "Organizing unit"),
        SubjectKind::Applicant => l.t("申报人", "Applicant"),
        SubjectKind::Expert => l.t("评审专家", "Expert"),
        SubjectKind::Staff => l.t("工作人员", "Staff"),
        SubjectKind::Employer => l.t("用人单位", "Employer"),
        SubjectKind::Intermediary => l.t("中介机构", "Intermediary"),
        SubjectKind::Website => l.t("网站", "Website"),
    }
}

fn sanction_status_words(status: SanctionStatus, l: Lang) -> &'static str {
    match status {
        SanctionStatus::Pending => l.t("尚未生效", "Not yet in force"),
        SanctionStatus::InForce => l.t("执行中", "In force"),
        SanctionStatus::Expired => l.t("已期满", "Expired"),
        SanctionStatus::Lifted => l.t("已解除", "Lifted"),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct SanctionsQuery {
    lang: Option<String>,
    q: Option<String>,
    kind: Option<String>,
}

pub struct KindOption {
    code: &'static str,
    words: &'static str,
    selected: bool,
}

#[derive(Template)]
#[template(path = "sanctions.html")]
struct SanctionsPage {
    l: Lang,
    switch_href: String,
    q: String,
    kinds: Vec<KindOption>,
    rows: Vec<SanctionRow>,
    more: bool,
}

/// `/sanctions`: the sanctions, newest records first by id, filtered by words and subject kind.
pub async fn sanctions(State(state): State<AppState>, Query(q): Query<SanctionsQuery>) -> Response {
    let l = Lang::from_query(q.lang.as_deref());
    let text = q.q.as_deref().unwrap_or_default().trim().to_string();
    let kind = q.kind.as_deref().and_then(SubjectKind::parse);
    let filter = SanctionRowFilter {
        subject_kind: kind,
        q: Some(search_words(&text)).filter(|w| !w.is_empty()),
        ..SanctionRowFilter::default()
    };
    let mut found = match state.store.sanctions_after(&filter, None, PAGE_ROWS + 1).await {
        Ok(found) => found,
        Err(e) => return problem_page(e.into(), l, "/sanctions"),
    };
    let more = found.len() > PAGE_ROWS as usize;
    found.truncate(PAGE_ROWS as usize);
    let kinds = SubjectKind::ALL
        .iter()
        .map(|k| KindOption { code: k.code(), words: subject_kind_words(*k, l), selected: Some(*k) == kind })
        .collect();
    render(&SanctionsPage {
        l,
        switch_href: switch("/sanctions", l),
        q: text,
        kinds,
        rows: found.iter().map(|s| SanctionRow::new(s, l)).collect(),
        more,
    })
}

pub struct Link {
    pub href: String,
    pub words: String,
}

pub struct DelegationRow {
    series: String,
    levels: String,
    valid: String,
    by: Link,
    document_number: String,
}

#[derive(Template)]
#[template(path = "authority.html")]
struct AuthorityPage {
    l: Lang,
    switch_href: String,
    name: String,
    level: &'static str,
    region: String,
    parent: Option<Link>,
    inherent: bool,
    delegations: Vec<DelegationRow>,
    children: Vec<Link>,
    committees: Vec<(Link, &'static str)>,
    more_committees: bool,
}

fn authority_level_words(level: AuthorityLevel, l: Lang) -> &'static str {
    match level {
        AuthorityLevel::National => l.t("国家级", "National"),
        AuthorityLevel::Provincial => l.t("省级", "Provincial"),
        AuthorityLevel::Municipal => l.t("市级", "Municipal"),
        AuthorityLevel::County => l.t("县级", "County"),
    }
}

/// `/authorities/{id}`: an HR authority, what it may approve, and the committees it approved.
pub async fn authority(State(state): State<AppState>, Path(id): Path<String>, Query(q): Query<LangQuery>) -> Response {
    let l = q.lang();
    let path = format!("/authorities/{id}");
    let found = async {
        let graph = state.store.authority_graph().await?;
        let authority = graph.get(&id).cloned().ok_or_else(|| AppError::not_found("authority", &id))?;
        let children = state
            .store
            .authorities_after(&AuthorityFilter { parent_id: Some(id.clone()), region: None }, None, 500)
            .await?;
        let filter = CommitteeRowFilter { authority_id: Some(id.clone()), ..CommitteeRowFilter::default() };
        let committees = state.store.committees_after(&filter, None, PAGE_ROWS + 1).await?;
        Ok::<_, AppError>((graph, authority, children, committees))
    };
    let (graph, a, children, mut committees) = match found.await {
        Ok(found) => found,
        Err(e) => return problem_page(e, l, &path),
    };
    let link = |id: &str| Link {
        href: format!("/authorities/{id}?lang={}", l.code()),
        words: graph.get(id).map_or(id.to_string(), |a| a.name.clone()),
    };
    let catalog = Catalog::get();
    let delegations = graph
        .delegations_to(&id)
        .iter()
        .map(|d| DelegationRow {
            series: catalog.series_by_code(&d.series).map_or(d.series.clone(), |s| match l {
                Lang::Zh => s.name_zh.clone(),
                Lang::En => s.name_en.clone(),
            }),
            levels: d.levels.iter().map(|x| level_words(*x, l)).collect::<Vec<_>>().join("、"),
            valid: format!(
                "{} — {}",
                d.valid_from,
                d.valid_until.map_or_else(|| l.t("长期", "open-ended").to_string(), |d| d.to_string())
            ),
            by: link(&d.delegated_by),
            document_number: d.document_number.clone(),
        })
        .collect();
    let more_committees = committees.len() > PAGE_ROWS as usize;
    committees.truncate(PAGE_ROWS as usize);
    let day = today();
    let committees = committees
        .iter()
        .map(|r| {
            let link = Link {
                href: format!("/committees/{}?lang={}", r.committee.id, l.code()),
                words: r.committee.name.clone(),
            };
            (link, status_words(r.status_on(day, &graph), l))
        })
        .collect();
    render(&AuthorityPage {
        l,
        switch_href: switch(&path, l),
        name: a.name.clone(),
        level: authority_level_words(a.level, l),
        region: catalog.region_name(&a.region),
        parent: a.parent_id.as_deref().map(link),
        inherent: matches!(a.level, AuthorityLevel::National | AuthorityLevel::Provincial),
        delegations,
        children: children.iter().map(|c| link(&c.id)).collect(),
        committees,
        more_committees,
    })
}

#[derive(Template)]
#[template(path = "log.html")]
struct LogPage {
    l: Lang,
    switch_href: String,
    checkpoint: Option<String>,
    size: u64,
    latest: Option<String>,
    verifier_key: String,
}

/// `/log`: the current signed checkpoint, and how anyone can audit it.
pub async fn log(State(state): State<AppState>, Query(q): Query<LangQuery>) -> Response {
    let l = q.lang();
    let checkpoint = match state.store.latest_checkpoint().await {
        Ok(c) => c,
        Err(e) => return problem_page(e.into(), l, "/log"),
    };
    let size = checkpoint.as_ref().map_or(0, |c| c.size);
    let latest = match freshness(&state, size).await {
        Ok(latest) => latest,
        Err(e) => return problem_page(e, l, "/log"),
    };
    render(&LogPage {
        l,
        switch_href: switch("/log", l),
        checkpoint: checkpoint.map(|c| c.note),
        size,
        latest,
        verifier_key: state.log.verifier_key(),
    })
}

/// When the last publication a checkpoint of `size` covers was logged (Beijing time).
pub async fn freshness(state: &AppState, size: u64) -> Result<Option<String>, AppError> {
    let Some(last) = size.checked_sub(1) else { return Ok(None) };
    let last = i64::try_from(last).unwrap_or(i64::MAX);
    let events = state.store.events_after(&crate::store::EventFilter::default(), Some(last - 1), 1).await?;
    let beijing = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    Ok(events.first().map(|e| e.logged_at.with_timezone(&beijing).format("%Y-%m-%d %H:%M").to_string()))
}

#[derive(Template)]
#[template(path = "about.html")]
struct AboutPage {
    l: Lang,
    switch_href: String,
    counts: crate::store::Counts,
}

/// `/about`: what the data is, its licence, the API and bulk access.
pub async fn about(State(state): State<AppState>, Query(q): Query<LangQuery>) -> Response {
    let l = q.lang();
    match state.store.counts().await {
        Ok(counts) => render(&AboutPage { l, switch_href: switch("/about", l), counts }),
        Err(e) => problem_page(e.into(), l, "/about"),
    }
}
