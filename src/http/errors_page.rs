//! `GET /errors`: where every problem's `type` URI resolves (`/errors#<code>`), one section
//! per code, from the same table the answers are built from.

use axum::response::Html;

use super::problem::{PROBLEM_TYPES, PROBLEM_TYPES_PATH};

/// The problem types: what each error code means and what to do about it.
#[utoipa::path(get, path = "/errors", tag = "meta",
    responses((status = 200, description = "An HTML page with a section per problem code (`#<code>`)", content_type = "text/html")))]
pub async fn problem_types() -> Html<String> {
    Html(page())
}

fn page() -> String {
    let mut html = String::from(concat!(
        "<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        "<title>错误类型 / Problem types — zhicheng</title></head><body>\n",
        "<h1>错误类型 / Problem types</h1>\n",
        "<p>每个错误应答（RFC 9457 application/problem+json）的 <code>type</code> 指向本页的一节。",
        " / Every error answer's <code>type</code> points at a section of this page.</p>\n",
    ));
    for t in PROBLEM_TYPES {
        html.push_str(&format!(
            "<section id=\"{code}\"><h2>{status} <code>{code}</code> — {title}</h2><p>{meaning}</p>\
             <p><a href=\"{PROBLEM_TYPES_PATH}#{code}\">{PROBLEM_TYPES_PATH}#{code}</a></p></section>\n",
            code = t.code,
            status = t.status,
            title = t.title,
            meaning = t.meaning,
        ));
    }
    html.push_str("</body></html>\n");
    html
}
