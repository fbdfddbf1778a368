//! Pages for people: server-rendered HTML (askama templates in `templates/`), plain forms that
//! work without JavaScript, Chinese first with an English switch (`?lang=en`). Every page takes
//! its data from the same store and domain calls as the JSON API; nothing here decides a rule.

pub mod assets;
pub mod committees;
pub mod registry;
pub mod supervision;
pub mod verify;

use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::problem::AppError;
use crate::domain::authorization::AuthorizationStatus;
use crate::domain::catalog::{Level, Series};
use crate::domain::code::Code;
use crate::domain::committee::CommitteeStatus;
use crate::domain::sanction::Measure;

/// The language of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    fn from_query(lang: Option<&str>) -> Lang {
        if lang == Some("en") { Lang::En } else { Lang::Zh }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn other_code(&self) -> &'static str {
        match self {
            Lang::Zh => "en",
            Lang::En => "zh-CN",
        }
    }

    /// The text in this language.
    pub fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    fn query(&self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
}

/// A page's query: its language.
#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

impl LangQuery {
    fn lang(&self) -> Lang {
        Lang::from_query(self.lang.as_deref())
    }
}

/// The link that shows the same page in the other language.
fn switch(path: &str, l: Lang) -> String {
    let other = if l == Lang::Zh { Lang::En } else { Lang::Zh };
    format!("{path}?lang={}", other.query())
}

/// A page, or a friendly page with the right status for what went wrong.
fn render(template: &impl Template) -> Response {
    match render_string(template) {
        Ok(html) => Html(html).into_response(),
        Err(e) => e.into_response(),
    }
}

fn render_string(template: &impl Template) -> Result<String, AppError> {
    template.render().map_err(|e| AppError::Internal(format!("template: {e}")))
}

/// A page rendered before.
fn html_bytes(page: axum::body::Bytes) -> Response {
    Html(page).into_response()
}

#[derive(Template)]
#[template(path = "problem.html")]
struct ProblemPage {
    l: Lang,
    switch_href: String,
    title: String,
    detail: String,
}

/// What went wrong, as a page: the problem's title and detail in the page's language.
fn problem_page(e: AppError, l: Lang, path: &str) -> Response {
    let status = e.status();
    if status.is_server_error() {
        tracing::error!(error = %e, "page failed");
    }
    let problem = e.to_problem();
    let pick = |text: &str| -> String {
        match text.split_once(" / ") {
            Some((zh, en)) => l.t(zh, en).to_string(),
            None => text.to_string(),
        }
    };
    let page =
        ProblemPage { l, switch_href: switch(path, l), title: pick(&problem.title), detail: pick(&problem.detail) };
    (status, render(&page)).into_response()
}

fn status_words(status: CommitteeStatus, l: Lang) -> &'static str {
    match status {
        CommitteeStatus::Authorized => l.t("有权评审", "Authorized"),
        CommitteeStatus::GrantorLackedCompetence => {
            l.t("超越权限：核准部门无权核准", "Beyond competence: its approving authority could not grant it")
        }
        CommitteeStatus::Pending => l.t("尚未生效", "Not yet in force"),
        CommitteeStatus::Expired => l.t("核准已过期", "Approval expired"),
        CommitteeStatus::Suspended => l.t("已暂停评审", "Suspended"),
        CommitteeStatus::Withdrawn => l.t("已撤销评审权", "Withdrawn"),
        CommitteeStatus::Unauthorized => l.t("未获授权", "Not authorized"),
    }
}

fn authorization_words(status: AuthorizationStatus, l: Lang) -> &'static str {
    match status {
        AuthorizationStatus::Pending => l.t("尚未生效", "Not yet in force"),
        AuthorizationStatus::Active => l.t("有效", "In force"),
        AuthorizationStatus::Expired => l.t("已过期", "Expired"),
        AuthorizationStatus::Suspended => l.t("已暂停", "Suspended"),
        AuthorizationStatus::Withdrawn => l.t("已撤销", "Withdrawn"),
    }
}

fn level_words(level: Level, l: Lang) -> String {
    match l {
        Lang::Zh => level.name_zh().to_string(),
        Lang::En => level.code().replace('_', " "),
    }
}

fn measure_words(measure: Measure, l: Lang) -> String {
    match l {
        Lang::Zh => measure.name_zh().to_string(),
        Lang::En => measure.code().replace('_', " "),
    }
}

fn series_words(series: &Series, l: Lang) -> String {
    l.t(&series.name_zh, &series.name_en).to_string()
}

/// A form field as filled in: trimmed, and absent when empty (a browser sends empty fields).
fn filled(value: &Option<String>) -> Option<String> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
}

/// Any other path: a friendly 404 page rather than JSON, for a person who typed a wrong address.
pub fn not_found_page(l: Lang, path: &str) -> Response {
    problem_page(AppError::RouteNotFound, l, path)
}
