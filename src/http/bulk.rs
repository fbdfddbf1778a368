//! Bulk verification for regulators: thousands of certificates in one request, read and
//! answered line by line, so memory stays flat however large the body; each chunk's signatures
//! are checked together in batches.

use std::borrow::Cow;
use std::pin::Pin;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};
use serde::Serialize;
use utoipa::ToSchema;

use super::certificates::{Verified, check, check_by_number};
use super::extract::Authenticated;
use super::problem::{AppError, Problem};
use super::state::AppState;
use crate::domain::verification::Presented;
use crate::domain::verification::{CheckStatus, HolderClaim, Verdict};

/// The most lines one request verifies; the rest are answered with one `too_many_lines` result.
pub const MAX_BULK_LINES: usize = 200_000;
/// The largest body one request may send (a declared larger `Content-Length` is refused at once
/// with 413; a streamed body is cut there, with a `body_too_large` result).
pub const MAX_BULK_BYTES: usize = 512 * 1024 * 1024;
/// The longest line: a certificate file is a few kilobytes.
pub const MAX_LINE_BYTES: usize = 64 * 1024;
/// Lines in flight (in chunks): enough to keep every core busy, few enough that memory does not
/// depend on the body's size.
const IN_FLIGHT: usize = 1024;
/// Lines verified by one task, their signatures checked as batches together: a task, a
/// wake-up and a write per chunk rather than per line.
const CHUNK: usize = 256;

/// One line's answer. A line that could not be read has `error` and no verdict.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    /// The line's number in the body, from 1 (a CSV header is line 1).
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_number: Option<String>,
    /// The holder's name, masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub committee_id: Option<String>,
    /// The checks that failed, with their reasons; empty when none did.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<BulkReason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<BulkReason>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkReason {
    #[schema(value_type = String)]
    pub code: Cow<'static, str>,
    #[schema(value_type = String)]
    pub message_zh: Cow<'static, str>,
    #[schema(value_type = String)]
    pub message_en: Cow<'static, str>,
}

impl BulkReason {
    fn new(code: &'static str, zh: &'static str, en: &'static str) -> BulkReason {
        BulkReason { code: code.into(), message_zh: zh.into(), message_en: en.into() }
    }
}

impl BulkResult {
    fn error(line: usize, reason: BulkReason) -> BulkResult {
        BulkResult {
            line,
            verdict: None,
            certificate_number: None,
            holder: None,
            committee_id: None,
            failed: vec![],
            error: Some(reason),
        }
    }

    fn verified(line: usize, v: Verified) -> BulkResult {
        let failed = v
            .checks
            .into_iter()
            .filter(|c| c.status == CheckStatus::Fail)
            .map(|c| BulkReason { code: c.code, message_zh: c.message_zh, message_en: c.message_en })
            .collect();
        let certificate = v.certificate;
        BulkResult {
            line,
            verdict: Some(v.verdict),
            certificate_number: certificate.as_ref().map(|c| c.certificate_number.clone()),
            holder: certificate.as_ref().map(|c| c.holder.clone()),
            committee_id: certificate.map(|c| c.committee_id),
            failed,
            error: None,
        }
    }
}

/// What one line asks to verify.
enum Input {
    Credential(serde_json::Value),
    Qr(String),
    Number { number: String, name: String },
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Ndjson,
    Csv,
}

impl Format {
    fn of(headers: &HeaderMap, name: header::HeaderName) -> Format {
        let value = headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if value.contains("text/csv") { Format::Csv } else { Format::Ndjson }
    }
}

/// Verify many certificates in one request.
///
/// The body is NDJSON (one per line: `{"credential": {…}}`, `{"qr": "ZC1:…"}`, `{"certificate_number":
/// …, "name": …}`, a bare certificate object, or bare QR text), or CSV with `Content-Type:
/// text/csv` (a header row naming `qr`, `credential`, `certificate_number`, `name`). The answer
/// is one result per line, in the same order, with its line number: NDJSON, or CSV when
/// `Accept` names `text/csv`. A bad line gets its own `error` result and never fails the rest.
/// At most 200,000 lines, 64 KiB a line and 512 MiB a body. `Zhicheng-Log-Size` tells the
/// transparency log's size the answers rest on.
#[utoipa::path(post, path = "/api/v1/bulk/verify", tag = "certificates", security(("bearer" = [])),
    request_body(description = "NDJSON, or CSV with Content-Type text/csv", content((String = "application/x-ndjson"), (String = "text/csv"))),
    responses(
        (status = 200, description = "one result per line, in order", content((BulkResult = "application/x-ndjson"), (String = "text/csv"))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json")))]
pub async fn bulk_verify(
    State(state): State<AppState>,
    Authenticated(actor): Authenticated,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BULK_BYTES as u64) {
        return Err(AppError::PayloadTooLarge { limit: MAX_BULK_BYTES });
    }
    if axum::body::HttpBody::size_hint(&body).exact() == Some(0) {
        return Err(AppError::invalid(
            "body",
            "empty_body",
            "请求体为空：每行一张证书、一段二维码文字，或一组编号与姓名",
            "the body is empty: send one certificate, QR text, or number and name per line",
        ));
    }
    let input = Format::of(&headers, header::CONTENT_TYPE);
    let output = Format::of(&headers, header::ACCEPT);
    let log_size = state.store.log_size().await?;
    tracing::info!(authority.id = %actor.authority_id, credential = %actor.credential, "bulk verification started");
    let mut numbered = Box::pin(
        lines(body.into_data_stream())
            .scan(Header::new(input), |header, line| std::future::ready(Some(header.parse(line))))
            .filter_map(std::future::ready)
            .peekable(),
    );
    // A body with nothing to verify (empty, or a CSV header alone) is refused before the answer
    // starts: reading up to its first line costs at most one line.
    if numbered.as_mut().peek().await.is_none() {
        return Err(AppError::invalid(
            "body",
            "empty_body",
            "请求体中没有待核验的行：每行一张证书、一段二维码文字，或一组编号与姓名",
            "the body has no line to verify: send one certificate, QR text, or number and name per line",
        ));
    }
    let results = numbered
        .chunks(CHUNK)
        .map(move |chunk| {
            // Each chunk on a task of its own: parsing and checking spread over every core,
            // while `buffered` keeps the answers in line order.
            let state = state.clone();
            let numbers: Vec<usize> = chunk.iter().map(|(number, _)| *number).collect();
            let task = tokio::spawn(async move { verify_chunk(&state, chunk).await });
            async move {
                task.await.unwrap_or_else(|_| numbers.iter().map(|n| BulkResult::error(*n, internal_error())).collect())
            }
        })
        .buffered(IN_FLIGHT / CHUNK);
    let mut first = output == Format::Csv;
    let body = results.map(move |results| {
        let mut out = Vec::with_capacity(256 * results.len());
        if std::mem::take(&mut first) {
            out.extend_from_slice(b"line,verdict,certificate_number,holder,committee_id,code,reason_zh,reason_en\n");
        }
        for result in &results {
            match output {
                Format::Ndjson => {
                    serde_json::to_writer(&mut out, result).map_err(std::io::Error::other)?;
                    out.push(b'\n');
                }
                Format::Csv => csv_row(&mut out, result)?,
            }
        }
        Ok::<_, std::io::Error>(Bytes::from(out))
    });
    let content_type = match output {
        Format::Ndjson => "application/x-ndjson",
        Format::Csv => "text/csv; charset=utf-8",
    };
    let mut response = Body::from_stream(body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert("zhicheng-log-size", HeaderValue::from(log_size));
    Ok(response)
}

fn csv_row(out: &mut Vec<u8>, r: &BulkResult) -> std::io::Result<()> {
    let reason = r.error.as_ref().or(r.failed.first());
    let verdict = r.verdict.and_then(|v| serde_json::to_value(v).ok()).and_then(|v| v.as_str().map(str::to_string));
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        r.line.to_string().as_str(),
        verdict.as_deref().unwrap_or_default(),
        r.certificate_number.as_deref().unwrap_or_default(),
        r.holder.as_deref().unwrap_or_default(),
        r.committee_id.as_deref().unwrap_or_default(),
        reason.map(|x| x.code.as_ref()).unwrap_or_default(),
        reason.map(|x| x.message_zh.as_ref()).unwrap_or_default(),
        reason.map(|x| x.message_en.as_ref()).unwrap_or_default(),
    ])?;
    w.flush()
}

/// What one line asks, once read: a credential (queued, parsed, for the chunk's signature
/// check, in line order), or a number and name.
enum Prepared {
    Queued,
    Number { number: String, name: String },
    Failed(BulkReason),
}

fn prepare(state: &AppState, input: Result<Input, BulkReason>, queue: &mut Vec<Presented>) -> Prepared {
    let credential = match input {
        Err(reason) => return Prepared::Failed(reason),
        Ok(Input::Number { number, name }) => return Prepared::Number { number, name },
        Ok(Input::Credential(credential)) => credential,
        Ok(Input::Qr(text)) => match crate::crypto::compact::decode(&text) {
            Ok(credential) => credential,
            Err(_) => {
                return Prepared::Failed(BulkReason::new(
                    "malformed_qr",
                    "二维码内容无法识别",
                    "the QR text cannot be read",
                ));
            }
        },
    };
    queue.push(state.verifier.presented(credential));
    Prepared::Queued
}

/// One chunk of lines: each parsed, every signature among them checked in batches, then each
/// line verified against the registry, in order.
async fn verify_chunk(state: &AppState, chunk: Vec<(usize, Result<LineText, BulkReason>)>) -> Vec<BulkResult> {
    let mut presented: Vec<Presented> = Vec::new();
    let prepared: Vec<(usize, Prepared)> = chunk
        .into_iter()
        .map(|(number, line)| (number, prepare(state, line.and_then(LineText::parse), &mut presented)))
        .collect();
    state.verifier.check_signatures(&mut presented);
    let has_numbers = prepared.iter().any(|(_, p)| matches!(p, Prepared::Number { .. }));
    let mut checked = presented.into_iter();
    let lines = prepared.into_iter().map(|(number, p)| {
        let presented =
            matches!(p, Prepared::Queued).then(|| checked.next().expect("one checked credential per queued line"));
        async move { verify_prepared(state, number, p, presented).await }
    });
    // A number and a name take a fixed least time each (`NAME_CHECK_FLOOR`), which the lines of
    // a chunk wait out together; credentials alone do not wait, and one after another they
    // spare the joining's bookkeeping.
    if has_numbers {
        futures_util::future::join_all(lines).await
    } else {
        let mut results = Vec::with_capacity(CHUNK);
        for line in lines {
            results.push(line.await);
        }
        results
    }
}

async fn verify_prepared(state: &AppState, number: usize, p: Prepared, queued: Option<Presented>) -> BulkResult {
    let verified = match (p, queued) {
        (Prepared::Failed(reason), _) => return BulkResult::error(number, reason),
        (Prepared::Queued, Some(mut presented)) => check(state, &mut presented, &HolderClaim::default()).await,
        (Prepared::Queued, None) => return BulkResult::error(number, internal_error()),
        (Prepared::Number { number: certificate, name }, _) => {
            let holder = HolderClaim { name: Some(name.clone()), id_number: None };
            check_by_number(state, &certificate, &name, &holder).await
        }
    };
    match verified {
        Ok(v) => BulkResult::verified(number, v),
        Err(e) => {
            tracing::error!(error = %e, line = number, "bulk verification: a line failed");
            BulkResult::error(number, internal_error())
        }
    }
}

/// A line of the body, numbered from 1, or why it could not be read.
type Line = (usize, Result<String, BulkReason>);

type DataStream = Pin<Box<dyn Stream<Item = Result<Bytes, axum::Error>> + Send>>;

/// The body's lines, read a chunk at a time: at most one line (64 KiB) is held beyond the
/// chunk being split. Stops after [`MAX_BULK_LINES`] lines or [`MAX_BULK_BYTES`] bytes with one
/// last error line, and at a read error with one.
fn lines(data: impl Stream<Item = Result<Bytes, axum::Error>> + Send + 'static) -> impl Stream<Item = Line> + Send {
    struct Reader {
        data: DataStream,
        pending: Vec<u8>,
        ready: std::collections::VecDeque<Line>,
        number: usize,
        bytes: usize,
        skipping: bool,
        done: bool,
    }
    let reader = Reader {
        data: Box::pin(data),
        pending: Vec::new(),
        ready: Default::default(),
        number: 0,
        bytes: 0,
        skipping: false,
        done: false,
    };
    stream::unfold(reader, |mut r| async move {
        loop {
            if let Some(line) = r.ready.pop_front() {
                return Some((line, r));
            }
            if r.done {
                return None;
            }
            let stop = |r: &mut Reader, code: &'static str, zh: &'static str, en: &'static str| {
                r.number += 1;
                r.ready.push_back((r.number, Err(BulkReason::new(code, zh, en))));
                r.done = true;
            };
            match r.data.next().await {
                Some(Ok(chunk)) => {
                    r.bytes += chunk.len();
                    if r.bytes > MAX_BULK_BYTES {
                        stop(
                            &mut r,
                            "body_too_large",
                            "请求体超过 512 MiB，其余内容未核验",
                            "the body is over 512 MiB; the rest was not verified",
                        );
                        continue;
                    }
                    split(&mut r.pending, &mut r.skipping, &chunk, &mut |text| {
                        r.number += 1;
                        r.ready.push_back((r.number, text));
                    });
                    if r.number >= MAX_BULK_LINES {
                        r.ready.truncate(r.ready.len() - (r.number - MAX_BULK_LINES));
                        r.number = MAX_BULK_LINES;
                        stop(
                            &mut r,
                            "too_many_lines",
                            "超过 200,000 行，其余行未核验",
                            "over 200,000 lines; the rest were not verified",
                        );
                    }
                }
                Some(Err(_)) => stop(
                    &mut r,
                    "unreadable_body",
                    "请求体读取中断，其余行未核验",
                    "the body could not be read to its end; the rest was not verified",
                ),
                None => {
                    if !r.pending.is_empty() || r.skipping {
                        let last = finish(std::mem::take(&mut r.pending), r.skipping);
                        r.number += 1;
                        r.ready.push_back((r.number, last));
                    }
                    r.done = true;
                }
            }
        }
    })
}

/// Splits `chunk` at newlines, continuing the line in `pending`; a line over [`MAX_LINE_BYTES`]
/// is skipped to its end (`skipping`) and reported once.
fn split(pending: &mut Vec<u8>, skipping: &mut bool, chunk: &[u8], emit: &mut dyn FnMut(Result<String, BulkReason>)) {
    let mut rest = chunk;
    while let Some(at) = memchr::memchr(b'\n', rest) {
        if !*skipping {
            pending.extend_from_slice(&rest[..at]);
        }
        emit(finish(std::mem::take(pending), *skipping));
        *skipping = false;
        rest = &rest[at + 1..];
    }
    if !*skipping {
        pending.extend_from_slice(rest);
        if pending.len() > MAX_LINE_BYTES {
            pending.clear();
            *skipping = true;
        }
    }
}

fn finish(mut line: Vec<u8>, skipped: bool) -> Result<String, BulkReason> {
    if skipped {
        return Err(BulkReason::new("line_too_long", "该行超过 64 KiB", "the line is over 64 KiB"));
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line).map_err(|_| BulkReason::new("not_utf8", "该行不是 UTF-8 文本", "the line is not UTF-8"))
}

/// The CSV header row, once read; NDJSON has none.
struct Header {
    format: Format,
    columns: Option<std::sync::Arc<Vec<String>>>,
}

/// A line's text, with what it takes to read it (the CSV header's columns).
enum LineText {
    Ndjson(String),
    Csv(std::sync::Arc<Vec<String>>, String),
}

impl LineText {
    fn parse(self) -> Result<Input, BulkReason> {
        match self {
            LineText::Ndjson(text) => ndjson_input(&text),
            LineText::Csv(columns, text) => csv_input(&columns, &text),
        }
    }
}

impl Header {
    fn new(format: Format) -> Header {
        Header { format, columns: None }
    }

    /// The line to read, or `None` for the CSV header row itself.
    fn parse(&mut self, (number, text): Line) -> Option<(usize, Result<LineText, BulkReason>)> {
        let text = match text {
            Ok(text) => text,
            Err(reason) => return Some((number, Err(reason))),
        };
        match (self.format, &self.columns) {
            (Format::Ndjson, _) => Some((number, Ok(LineText::Ndjson(text)))),
            (Format::Csv, None) => {
                let header = csv_fields(&text).unwrap_or_default();
                self.columns =
                    Some(std::sync::Arc::new(header.iter().map(|c| c.trim().to_ascii_lowercase()).collect()));
                None
            }
            (Format::Csv, Some(columns)) => Some((number, Ok(LineText::Csv(columns.clone(), text)))),
        }
    }
}

fn internal_error() -> BulkReason {
    BulkReason::new("internal", "服务器内部错误，请重试", "internal error; retry")
}

fn empty_line() -> BulkReason {
    BulkReason::new("empty_line", "空行", "the line is empty")
}

fn malformed() -> BulkReason {
    BulkReason::new(
        "malformed_line",
        "该行应为证书（JSON）、二维码文字，或证书编号与姓名",
        "the line must be a certificate (JSON), QR text, or a certificate number with a name",
    )
}

fn ndjson_input(text: &str) -> Result<Input, BulkReason> {
    let text = text.trim();
    if text.is_empty() {
        return Err(empty_line());
    }
    if !text.starts_with('{') {
        return if text.contains("ZC1:") { Ok(Input::Qr(text.to_string())) } else { Err(malformed()) };
    }
    let mut value: serde_json::Value = serde_json::from_str(text).map_err(|_| malformed())?;
    let object = value.as_object_mut().ok_or_else(malformed)?;
    let string = |v: Option<serde_json::Value>| v.and_then(|v| v.as_str().map(str::trim).map(str::to_string));
    if let Some(credential) = object.remove("credential") {
        return if credential.is_object() { Ok(Input::Credential(credential)) } else { Err(malformed()) };
    }
    if let Some(qr) = string(object.remove("qr")) {
        return Ok(Input::Qr(qr));
    }
    if object.contains_key("certificate_number") {
        return number_input(string(object.remove("certificate_number")), string(object.remove("name")));
    }
    if object.contains_key("credentialSubject") {
        return Ok(Input::Credential(value));
    }
    Err(malformed())
}

fn number_input(number: Option<String>, name: Option<String>) -> Result<Input, BulkReason> {
    match (number.filter(|n| !n.is_empty()), name.filter(|n| !n.is_empty())) {
        (Some(number), Some(name)) => Ok(Input::Number { number, name }),
        _ => Err(BulkReason::new(
            "name_required",
            "按编号核验须同时给出编号和姓名",
            "a check by number needs the number and the name",
        )),
    }
}

fn csv_fields(text: &str) -> Option<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    let record = reader.records().next()?.ok()?;
    Some(record.iter().map(str::to_string).collect())
}

fn csv_input(columns: &[String], text: &str) -> Result<Input, BulkReason> {
    if text.trim().is_empty() {
        return Err(empty_line());
    }
    let fields = csv_fields(text).ok_or_else(malformed)?;
    let field = |name: &str| {
        columns
            .iter()
            .position(|c| c == name)
            .and_then(|i| fields.get(i))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    if let Some(qr) = field("qr") {
        return Ok(Input::Qr(qr));
    }
    if let Some(credential) = field("credential") {
        return match serde_json::from_str::<serde_json::Value>(&credential) {
            Ok(c) if c.is_object() => Ok(Input::Credential(c)),
            _ => Err(malformed()),
        };
    }
    if field("certificate_number").is_some() || field("name").is_some() {
        return number_input(field("certificate_number"), field("name"));
    }
    Err(malformed())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_all(chunks: &[&[u8]]) -> Vec<Result<String, String>> {
        let (mut pending, mut skipping, mut out) = (Vec::new(), false, Vec::new());
        for chunk in chunks {
            split(&mut pending, &mut skipping, chunk, &mut |l| out.push(l.map_err(|e| e.code.into_owned())));
        }
        if !pending.is_empty() || skipping {
            out.push(finish(pending, skipping).map_err(|e| e.code.into_owned()));
        }
        out
    }

    #[test]
    fn lines_are_split_across_chunks_and_long_ones_skipped() {
        assert_eq!(
            split_all(&[b"ab", b"c\r\nd\n", b"\ne"]),
            [Ok("abc".into()), Ok("d".into()), Ok("".into()), Ok("e".into())]
        );
        let long = vec![b'x'; MAX_LINE_BYTES + 10];
        let got = split_all(&[&long[..100], &long[100..], b"\nok\n"]);
        assert_eq!(got, [Err("line_too_long".to_string()), Ok("ok".into())]);
    }

    #[test]
    fn each_kind_of_line_is_read() {
        assert!(matches!(ndjson_input("{\"qr\": \"ZC1:abc\"}"), Ok(Input::Qr(_))));
        assert!(matches!(ndjson_input("http://r/v#ZC1:abc"), Ok(Input::Qr(_))));
        assert!(matches!(
            ndjson_input("{\"certificate_number\": \"1\", \"name\": \"张三\"}"),
            Ok(Input::Number { .. })
        ));
        assert_eq!(ndjson_input("{\"certificate_number\": \"1\"}").err().unwrap().code, "name_required");
        assert_eq!(ndjson_input("{not json").err().unwrap().code, "malformed_line");
        assert_eq!(ndjson_input("  ").err().unwrap().code, "empty_line");
        let columns = ["certificate_number".to_string(), "name".to_string()];
        assert!(matches!(csv_input(&columns, "\"A-1\",张三"), Ok(Input::Number { .. })));
    }
}
