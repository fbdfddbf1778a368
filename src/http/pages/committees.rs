//! Committee search and a committee's page.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;

use super::{Lang, PageQuery, authorization_words, level_words, problem_page, render, status_words, switch};
use crate::domain::catalog::Level;
use crate::domain::committee::CommitteeStatus;
use crate::http::extract::Path;
use crate::http::problem::AppError;
use crate::http::state::AppState;
use crate::http::views::CommitteeView;
use crate::store::CommitteeRowFilter;

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
    rows: Vec<CommitteeRow>,
}

/// Committees and organizing units whose name holds the search, the first 50.
pub async fn committees(State(state): State<AppState>, Query(q): Query<PageQuery>) -> Response {
    let l = q.lang();
    let text = q.q.as_deref().map(str::trim).unwrap_or_default().to_string();
    let mut rows = Vec::new();
    if !text.is_empty() {
        let filter = CommitteeRowFilter { q: Some(simplified(&text)), ..CommitteeRowFilter::default() };
        let (records, graph) =
            match (state.store.committees_after(&filter, None, 50).await, state.store.authority_graph().await) {
                (Ok(r), Ok(g)) => (r, g),
                (Err(e), _) | (_, Err(e)) => return problem_page(e.into(), l, "/committees"),
            };
        let today = crate::store::today();
        rows = records
            .iter()
            .map(|r| CommitteeRow {
                id: r.committee.id.clone(),
                name: r.committee.name.clone(),
                region_name: crate::domain::catalog::Catalog::get().region_name(&r.committee.region),
                status: status_words(r.status_on(today, &graph), l).to_string(),
            })
            .collect();
    }
    render(&CommitteesPage { l, switch_href: switch("/committees", l), searched: !text.is_empty(), q: text, rows })
}

/// The traditional characters common in committee names, in simplified form: the registry
/// stores names as published, in simplified characters.
fn simplified(text: &str) -> String {
    const PAIRS: [(char, char); 24] = [
        ('會', '会'),
        ('審', '审'),
        ('員', '员'),
        ('師', '师'),
        ('職', '职'),
        ('稱', '称'),
        ('評', '评'),
        ('級', '级'),
        ('術', '术'),
        ('長', '长'),
        ('業', '业'),
        ('衛', '卫'),
        ('醫', '医'),
        ('計', '计'),
        ('經', '经'),
        ('濟', '济'),
        ('學', '学'),
        ('農', '农'),
        ('檔', '档'),
        ('聞', '闻'),
        ('東', '东'),
        ('廣', '广'),
        ('樂', '乐'),
        ('藝', '艺'),
    ];
    text.chars().map(|c| PAIRS.iter().find(|(t, _)| *t == c).map_or(c, |(_, s)| *s)).collect()
}

struct AuthorizationRow {
    series: String,
    levels: String,
    beyond: String,
    valid_from: String,
    valid_until: String,
    status: String,
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
    authorizations: Vec<AuthorizationRow>,
    sanctions: Vec<String>,
}

/// `/committees/{id}`: the committee, its authorizations and sanctions, and a clear warning
/// where its approving authority lacked the competence.
pub async fn committee(State(state): State<AppState>, Path(id): Path<String>, Query(q): Query<PageQuery>) -> Response {
    let l = q.lang();
    let path = format!("/committees/{id}");
    let found = async {
        let record = state.store.committee(&id).await?.ok_or_else(|| AppError::not_found("committee", &id))?;
        let graph = state.store.authority_graph().await?;
        Ok::<_, AppError>((record, graph))
    };
    let (record, graph) = match found.await {
        Ok(found) => found,
        Err(e) => return problem_page(e, l, &path),
    };
    let view = CommitteeView::new(&record, crate::store::today(), &graph);
    let authority_name = graph.get(&view.authority_id).map_or(view.authority_id.clone(), |a| a.name.clone());
    let levels = |levels: &[Level]| levels.iter().map(|x| level_words(*x, l)).collect::<Vec<_>>().join("、");
    let authorizations = view
        .authorizations
        .iter()
        .map(|a| AuthorizationRow {
            series: if l == Lang::Zh { a.series_name.clone() } else { a.series.clone() },
            levels: levels(&a.levels),
            beyond: levels(&a.levels_beyond_grantor_competence),
            valid_from: a.valid_from.to_string(),
            valid_until: a.valid_until.to_string(),
            status: authorization_words(a.status, l).to_string(),
        })
        .collect();
    let sanctions = view
        .sanctions
        .iter()
        .map(|s| format!("{} {} {}（{}）", s.effective_from, s.measure_name, s.summary, s.document_number))
        .collect();
    let status_class = match view.status {
        CommitteeStatus::Authorized => "good",
        CommitteeStatus::Pending => "warn",
        _ => "bad",
    };
    render(&CommitteePage {
        l,
        switch_href: switch(&path, l),
        status: status_words(view.status, l),
        status_class,
        lacked_competence: view.status == CommitteeStatus::GrantorLackedCompetence
            || view.authorizations.iter().any(|a| !a.levels_beyond_grantor_competence.is_empty()),
        authority_name,
        authorizations,
        sanctions,
        c: view,
    })
}

