//! Verifying a certificate: the five ways in, and the result.

use askama::Template;
use axum::Form;
use axum::extract::{Multipart, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{Lang, LangQuery, filled, level_words, problem_page, render, switch};
use crate::domain::verification::{CheckStatus, HolderClaim, Verdict};
use crate::http::certificates::{VerifyResponse, verify_by_number, verify_presented};
use crate::http::problem::AppError;
use crate::http::state::AppState;
use crate::verify::qr_image::encode_svg;

/// The largest upload the verify page takes: a certificate file, or a photo of its QR code.
pub const MAX_UPLOAD_BYTES: usize = 4 * 1024 * 1024;

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    l: Lang,
    switch_href: String,
    number: String,
}

/// The verify page's query: its language, and a certificate number to fill in (the link a
/// printed report's QR code holds).
#[derive(Debug, Default, Deserialize)]
pub struct VerifyQuery {
    lang: Option<String>,
    number: Option<String>,
}

/// `/verify`: the ways to check a certificate.
pub async fn verify_form(Query(q): Query<VerifyQuery>) -> Response {
    let l = Lang::from_query(q.lang.as_deref());
    let number = q.number.unwrap_or_default().chars().take(MAX_NUMBER_CHARS).collect();
    render(&VerifyPage { l, switch_href: switch("/verify", l), number })
}

#[derive(Debug, Default, Deserialize)]
pub struct VerifyForm {
    lang: Option<String>,
    certificate_number: Option<String>,
    name: Option<String>,
    id_number: Option<String>,
    qr: Option<String>,
}

/// A form's number + name, or its QR text.
pub async fn verify_submit(State(state): State<AppState>, Form(form): Form<VerifyForm>) -> Response {
    let l = Lang::from_query(form.lang.as_deref());
    let holder = HolderClaim { name: filled(&form.name), id_number: filled(&form.id_number) };
    let answer = match (filled(&form.qr), filled(&form.certificate_number)) {
        (Some(qr), _) => match crate::crypto::compact::decode(&qr) {
            Ok(credential) => verify_presented(&state, credential, &holder).await,
            Err(_) => Err(AppError::invalid(
                "qr",
                "malformed_qr",
                "二维码内容无法识别，请确认完整复制了以 ZC1: 开头的文字",
                "the QR text cannot be read; copy all of it, starting with ZC1:",
            )),
        },
        (None, Some(number)) => match holder.name.clone() {
            Some(name) => verify_by_number(&state, &number, &name, &holder).await,
            None => Err(AppError::invalid("name", "required", "请填写持证人姓名", "enter the holder's name")),
        },
        (None, None) => Err(AppError::invalid(
            "certificate_number",
            "required",
            "请填写证书编号和姓名，或粘贴二维码文字",
            "enter the number and the name, or paste the QR text",
        )),
    };
    result_page(answer, l)
}

/// An uploaded certificate file.
pub async fn verify_file(
    State(state): State<AppState>,
    Query(q): Query<LangQuery>,
    mut multipart: Multipart,
) -> Response {
    let l = Lang::from_query(q.lang.as_deref());
    let unreadable = || {
        AppError::invalid(
            "file",
            "unreadable_file",
            "无法读取上传的文件，请选择证书文件（JSON）",
            "the upload cannot be read; choose the certificate file (JSON)",
        )
    };
    let too_large = || AppError::PayloadTooLarge { limit: MAX_UPLOAD_BYTES };
    let mut bytes = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return problem_page(too_large(), l, "/verify"),
            Err(_) => return problem_page(unreadable(), l, "/verify"),
        };
        if field.name() != Some("file") {
            continue;
        }
        match field.bytes().await {
            Ok(b) if b.len() > MAX_UPLOAD_BYTES => return problem_page(too_large(), l, "/verify"),
            Ok(b) => bytes = Some(b),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return problem_page(too_large(), l, "/verify"),
            Err(_) => return problem_page(unreadable(), l, "/verify"),
        }
        break;
    }
    let Some(bytes) = bytes else { return problem_page(unreadable(), l, "/verify") };
    let credential = if crate::verify::qr_image::is_image(&bytes) {
        qr_credential(&bytes)
    } else {
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(credential) if credential.is_object() => Ok(credential),
            _ => Err(AppError::invalid(
                "file",
                "not_a_certificate",
                "上传的文件不是证书文件（JSON），也不是二维码图片（PNG 或 JPEG）",
                "the file is neither a certificate file (JSON) nor a picture of its QR code (PNG or JPEG)",
            )),
        }
    };
    let answer = match credential {
        Ok(credential) => verify_presented(&state, credential, &HolderClaim::default()).await,
        Err(e) => Err(e),
    };
    result_page(answer, l)
}

/// The credential in a photo or screenshot of a certificate's QR code.
fn qr_credential(bytes: &[u8]) -> Result<serde_json::Value, AppError> {
    use crate::verify::qr_image::{QrImageError, decode};
    let text = decode(bytes).map_err(|e| match e {
        QrImageError::NotAnImage => {
            AppError::invalid("file", "unreadable_image", "图片无法读取", "the picture cannot be read")
        }
        QrImageError::TooLarge(..) => AppError::invalid(
            "file",
            "image_too_large",
            "图片超过 1600 万像素，请裁剪后重试",
            "the picture is over 16 megapixels; crop it and try again",
        ),
        QrImageError::NoCode => AppError::invalid(
            "file",
            "no_qr_code",
            "图片中找不到可读的二维码，请拍得更清晰、更正",
            "no readable QR code in the picture; take it sharper and straighter",
        ),
    })?;
    crate::crypto::compact::decode(&text).map_err(|_| {
        AppError::invalid(
            "file",
            "malformed_qr",
            "二维码不是本登记的证书二维码",
            "the QR code is not a certificate of this registry",
        )
    })
}

#[derive(Template)]
#[template(path = "open.html")]
struct OpenPage {
    l: Lang,
    switch_href: String,
}

/// `/v`: where a certificate's QR code points. The certificate is in the URL's fragment, which
/// the browser never sends; the page's script posts it to `/verify` (the person opened the link
/// to check it). Without JavaScript the page offers the paste form.
pub async fn open_qr(Query(q): Query<LangQuery>) -> Response {
    let l = q.lang();
    render(&OpenPage { l, switch_href: switch("/v", l) })
}

struct SummaryRow {
    number: String,
    holder: String,
    title: String,
    level: String,
    committee_id: String,
    committee_name: String,
    evaluated: String,
}

struct CheckRow {
    step: &'static str,
    status: &'static str,
    status_words: &'static str,
    message: String,
}

#[derive(Template)]
#[template(path = "result.html")]
struct ResultPage {
    l: Lang,
    switch_href: String,
    verdict: &'static str,
    verdict_class: &'static str,
    meaning: &'static str,
    summary: Option<SummaryRow>,
    checks: Vec<CheckRow>,
    log_size: i64,
    /// When the answer was computed, Beijing time.
    checked_at: String,
    /// The printed report's QR code (an SVG image), back to a re-check.
    recheck_src: Option<String>,
}

/// Where the printed report's QR code leads: the verify page with the certificate's number
/// filled in (never the name: names stay out of addresses). A short link, so the code is small;
/// the reader types the name again and sees the registry's answer as of then.
fn recheck_url(public_url: &str, number: &str, l: Lang) -> String {
    format!("{public_url}/verify?{}", number_query(number, l))
}

/// `lang=…&number=…`, the query naming a certificate to check again.
fn number_query(number: &str, l: Lang) -> String {
    serde_urlencoded::to_string([("lang", l.code()), ("number", number)]).unwrap_or_default()
}

/// The longest certificate number a re-check code is drawn for.
const MAX_NUMBER_CHARS: usize = 64;

#[derive(Debug, Default, Deserialize)]
pub struct RecheckQuery {
    lang: Option<String>,
    number: Option<String>,
}

/// `/verify/recheck.svg?number=…`: the report's QR code, an image of its own so the result page
/// is not held up drawing it, and a browser keeps it.
pub async fn recheck_qr(State(state): State<AppState>, Query(q): Query<RecheckQuery>) -> Response {
    let l = Lang::from_query(q.lang.as_deref());
    let number = q.number.as_deref().map(str::trim).unwrap_or_default();
    if number.is_empty() || number.chars().count() > MAX_NUMBER_CHARS {
        let e = AppError::invalid(
            "number",
            "invalid_number",
            "证书编号应为 1 至 64 个字符",
            "the certificate number must be 1 to 64 characters",
        );
        return e.into_response();
    }
    match encode_svg(&recheck_url(&state.public_url, number, l), 160) {
        Ok(svg) => ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, "public, max-age=86400")], svg)
            .into_response(),
        Err(e) => AppError::Internal(format!("re-check QR: {e}")).into_response(),
    }
}

fn result_page(answer: Result<VerifyResponse, AppError>, l: Lang) -> Response {
    let answer = match answer {
        Ok(answer) => answer,
        Err(e) => return problem_page(e, l, "/verify"),
    };
    let (verdict, verdict_class, meaning) = verdict_words(answer.verdict, l);
    let checks = answer
        .checks
        .iter()
        .map(|c| {
            let (status, status_words) = match c.status {
                CheckStatus::Pass => ("pass", l.t("通过", "Pass")),
                CheckStatus::Fail => ("fail", l.t("未通过", "Fail")),
                CheckStatus::Skip => ("skip", l.t("未检查", "Not checked")),
            };
            let step =
                serde_json::to_value(c.step).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            CheckRow {
                step: step_words(&step, l),
                status,
                status_words,
                message: l.t(&c.message_zh, &c.message_en).to_string(),
            }
        })
        .collect();
    let summary = answer.certificate.map(|s| SummaryRow {
        number: s.certificate_number,
        holder: s.holder,
        title: s.title_name,
        level: level_words(s.level, l),
        committee_id: s.committee_id,
        committee_name: s.committee_name,
        evaluated: s.evaluation_date.to_string(),
    });
    let recheck_src = summary.as_ref().map(|s| format!("/verify/recheck.svg?{}", number_query(&s.number, l)));
    render(&ResultPage {
        l,
        switch_href: switch("/verify", l),
        verdict,
        verdict_class,
        meaning,
        summary,
        checks,
        log_size: answer.checked_against.log_size,
        checked_at: answer
            .checked_against
            .as_of
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        recheck_src,
    })
}

fn verdict_words(verdict: Verdict, l: Lang) -> (&'static str, &'static str, &'static str) {
    match verdict {
        Verdict::Valid => (l.t("真实有效", "Genuine and valid"), "good", l.t("证书由有权机构签发，评委会当时有权评审，登记一致，未被撤销或暂停。", "Issued by an authorized issuer, evaluated by a committee authorized at the time, as registered, neither revoked nor suspended.")),
        Verdict::Revoked => (l.t("已撤销", "Revoked"), "bad", l.t("该职称已被依法撤销，不能作为任职依据。", "This title has been revoked and cannot be relied on.")),
        Verdict::Suspended => (l.t("已暂停", "Suspended"), "warn", l.t("该证书正在核查中，暂不能作为任职依据；请稍后再核验或联系发证机构。", "This certificate is under review; do not rely on it for now, check again later or ask the issuer.")),
        Verdict::Invalid => (l.t("无效 — 可能伪造", "Invalid — possibly forged"), "bad", l.t("证书未通过下列检查。请勿采信，可向发证机构或当地人社部门举报。", "The certificate failed the checks below. Do not rely on it; you may report it to the issuer or the local HR authority.")),
        Verdict::NotFound => (l.t("未找到", "Not found"), "bad", l.t("登记中没有与该编号和姓名相符的证书。请核对后重试；仍未找到的，证书可能是伪造的。", "No registered certificate has this number and name. Check them and try again; if it is still not found, the certificate may be forged.")),
    }
}

fn step_words(step: &str, l: Lang) -> &'static str {
    match step {
        "format" => l.t("格式", "Format"),
        "signature" => l.t("签名", "Signature"),
        "key" => l.t("签名密钥", "Signing key"),
        "issuer" => l.t("签发机构", "Issuer"),
        "authority" => l.t("评审权限", "Committee's authority"),
        "sanctions" => l.t("处理决定", "Sanctions"),
        "session" => l.t("评审会议", "Evaluation session"),
        "status" => l.t("撤销或暂停", "Revocation or suspension"),
        "registry" => l.t("登记", "Registry"),
        "holder" => l.t("持证人", "Holder"),
        _ => l.t("检查", "Check"),
    }
}
