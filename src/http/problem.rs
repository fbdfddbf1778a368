//! The one error type. Every failure a client can see becomes an RFC 9457
//! `application/problem+json` answer with a stable code, Chinese and English text, and the
//! offending field; the cause of a 5xx is logged once here and never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::publish::{Violation, ViolationKind};

pub use crate::domain::publish::{LineViolation, MAX_REPORTED_LINES};
use crate::publish::import::ImportError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A publishing rule refused the write (403, 409 or 422 by its kind).
    #[error("{}: {}", .0.field, .0.message_en)]
    Rule(Violation),
    /// A bulk write with broken rules: nothing was written; every bad line is listed.
    #[error("{} operation(s) rejected", .0.len())]
    Rejected(Vec<LineViolation>),
    /// No credential, or one that is unknown or revoked (401).
    #[error("unauthenticated: {message_en}")]
    Unauthenticated { code: &'static str, message_zh: &'static str, message_en: &'static str },
    #[error("the body exceeds {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("unsupported media type {0}")]
    UnsupportedMediaType(String),
    /// A query parameter, path segment or body field is malformed or out of range.
    #[error("invalid {field}: {message_en}")]
    Invalid { field: String, code: &'static str, message_zh: String, message_en: String },
    #[error("{resource} {id} not found")]
    NotFound { resource: &'static str, id: String },
    #[error("no such route")]
    RouteNotFound,
    /// Logged, but not yet covered by a signed checkpoint (one follows within a second).
    #[error("not yet in a checkpoint")]
    NotYetLogged,
    #[error("method not allowed")]
    MethodNotAllowed,
    /// This client sent more requests of this kind than its quota allows (429).
    #[error("rate limited for {retry_after} s")]
    RateLimited { retry_after: u64 },
    #[error("configuration: {0}")]
    Config(String),
    /// The database cannot be reached or did not answer in time (503).
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("internal: {0}")]
    Internal(String),
}

/// One field-level problem.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldError {
    /// The parameter or field at fault, e.g. `limit` or `series`.
    pub field: String,
    pub code: String,
    pub message_zh: String,
    pub message_en: String,
    /// For bulk imports: the 1-based line (NDJSON) or record (CSV, header excluded) at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

impl FieldError {
    fn from_violation(v: &Violation, line: Option<usize>) -> Self {
        FieldError {
            field: v.field.clone(),
            code: v.code.to_string(),
            message_zh: v.message_zh.clone(),
            message_en: v.message_en.clone(),
            line,
        }
    }
}

/// RFC 9457 problem details, as every error is answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type (documented in docs/ERRORS.md).
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short summary, Chinese then English.
    pub title: String,
    pub status: u16,
    /// What went wrong in this instance, Chinese then English.
    pub detail: String,
    /// Stable machine-readable code.
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::Rejected(lines) => AppError::Rejected(lines),
            StoreError::Refused(violation) => AppError::Rule(violation),
            StoreError::Unavailable(cause) => AppError::Unavailable(cause),
            StoreError::Config(message) => AppError::Config(message),
            e @ (StoreError::Corrupt(_) | StoreError::Internal(_)) => AppError::Internal(e.to_string()),
        }
    }
}

impl From<crate::verify::registry_key::KeyFileError> for AppError {
    fn from(e: crate::verify::registry_key::KeyFileError) -> AppError {
        AppError::Config(e.0)
    }
}

impl From<crate::tlog::signed_note::NoteError> for AppError {
    fn from(e: crate::tlog::signed_note::NoteError) -> AppError {
        AppError::Config(format!("日志名称或密钥无效 / invalid log origin or key: {e}"))
    }
}

impl From<ImportError> for AppError {
    fn from(e: ImportError) -> AppError {
        match e {
            ImportError::Rejected(lines) => AppError::Rejected(lines),
            ImportError::File { field, code, message_zh, message_en } => {
                AppError::Invalid { field: field.to_string(), code, message_zh, message_en }
            }
        }
    }
}

impl AppError {
    pub fn invalid(
        field: &str,
        code: &'static str,
        message_zh: impl Into<String>,
        message_en: impl Into<String>,
    ) -> Self {
        AppError::Invalid {
            field: field.to_string(),
            code,
            message_zh: message_zh.into(),
            message_en: message_en.into(),
        }
    }

    pub fn not_found(resource: &'static str, id: impl Into<String>) -> Self {
        AppError::NotFound { resource, id: id.into() }
    }

    /// A single operation's rejection as a plain rule violation (for one-operation writes).
    pub fn single(self) -> AppError {
        match self {
            AppError::Rejected(mut lines) if lines.len() == 1 => AppError::Rule(lines.remove(0).violation),
            other => other,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Rule(v) => match v.kind {
                ViolationKind::Forbidden => StatusCode::FORBIDDEN,
                ViolationKind::Conflict => StatusCode::CONFLICT,
                ViolationKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            },
            AppError::Rejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            AppError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Invalid { .. } => StatusCode::BAD_REQUEST,
            AppError::NotFound { .. } | AppError::RouteNotFound => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) | AppError::NotYetLogged => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Config(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn to_problem(&self) -> Problem {
        let status = self.status();
        let (code, title, detail, errors) = match self {
            AppError::Invalid { field, code, message_zh, message_en } => (
                "invalid-parameter",
                "请求参数无效 / Invalid request parameter",
                format!("{field}: {message_zh} / {message_en}"),
                vec![FieldError {
                    field: field.clone(),
                    code: code.to_string(),
                    message_zh: message_zh.clone(),
                    message_en: message_en.clone(),
                    line: None,
                }],
            ),
            AppError::Rule(v) => {
                let (code, title) = match v.kind {
                    ViolationKind::Forbidden => ("forbidden", "无权操作 / Forbidden"),
                    ViolationKind::Conflict => ("conflict", "与登记状态冲突 / Conflict"),
                    ViolationKind::Invalid => ("unprocessable", "内容不符合规则 / Unprocessable content"),
                };
                (
                    code,
                    title,
                    format!("{}: {} / {}", v.field, v.message_zh, v.message_en),
                    vec![FieldError::from_violation(v, None)],
                )
            }
            AppError::Rejected(lines) => (
                "import-rejected",
                "导入被拒绝，未写入任何内容 / Import rejected, nothing written",
                format!(
                    "{} 处错误，整个文件未写入 / {} error(s); nothing from the file was written",
                    lines.len(),
                    lines.len()
                ),
                lines.iter().map(|l| FieldError::from_violation(&l.violation, Some(l.line))).collect(),
            ),
            AppError::Unauthenticated { code, message_zh, message_en } => (
                "unauthenticated",
                "需要有效凭证 / Authentication required",
                format!("{message_zh} / {message_en}"),
                vec![FieldError {
                    field: "Authorization".into(),
                    code: code.to_string(),
                    message_zh: message_zh.to_string(),
                    message_en: message_en.to_string(),
                    line: None,
                }],
            ),
            AppError::PayloadTooLarge { limit } => (
                "payload-too-large",
                "请求体过大 / Payload too large",
                format!("请求体超过 {limit} 字节 / the body exceeds {limit} bytes"),
                vec![],
            ),
            AppError::UnsupportedMediaType(media) => (
                "unsupported-media-type",
                "不支持的内容类型 / Unsupported media type",
                format!("不支持的 Content-Type：{media} / unsupported Content-Type {media:?}"),
                vec![FieldError {
                    field: "Content-Type".into(),
                    code: "unsupported_media_type".into(),
                    message_zh: "不支持的内容类型".into(),
                    message_en: format!("unsupported {media:?}"),
                    line: None,
                }],
            ),
            AppError::NotFound { resource, id } => (
                "not-found",
                "未找到 / Not found",
                format!("未找到{}“{id}” / no {resource} with id {id:?}", resource_zh(resource)),
                vec![FieldError {
                    field: "id".into(),
                    code: "not_found".into(),
                    message_zh: format!("不存在的{}", resource_zh(resource)),
                    message_en: format!("unknown {resource}"),
                    line: None,
                }],
            ),
            AppError::RouteNotFound => {
                ("not-found", "未找到 / Not found", "没有这个地址 / no such path".into(), vec![])
            }
            AppError::MethodNotAllowed => (
                "method-not-allowed",
                "方法不允许 / Method not allowed",
                "该地址不支持此方法 / this path does not support this method".into(),
                vec![],
            ),
            AppError::RateLimited { retry_after } => (
                "rate-limited",
                "请求过于频繁 / Too many requests",
                format!("此类请求过于频繁，请 {retry_after} 秒后重试 / too many requests of this kind from your address; retry in {retry_after} s"),
                vec![],
            ),
            AppError::NotYetLogged => (
                "not-yet-checkpointed",
                "尚未纳入签名检查点 / Not yet in a checkpoint",
                "已记入日志，下一个签名检查点（1 秒内）后可取证明，请稍后重试 / logged; the proof is available after the next signed checkpoint (within a second), retry shortly".into(),
                vec![],
            ),
            _ if status == StatusCode::SERVICE_UNAVAILABLE => (
                "unavailable",
                "服务暂不可用 / Service unavailable",
                "数据库暂时无法完成请求（正忙或无法连接），请稍后重试 / the database cannot serve this right now (busy or unreachable); retry shortly".into(),
                vec![],
            ),
            _ => (
                "internal",
                "内部错误 / Internal error",
                "服务器内部错误，已记录 / an internal error occurred and was logged".into(),
                vec![],
            ),
        };
        Problem {
            type_uri: format!("/docs/errors#{code}"),
            title: title.into(),
            status: status.as_u16(),
            detail,
            code: code.into(),
            errors,
        }
    }
}

fn resource_zh(resource: &str) -> &'static str {
    match resource {
        "committee" => "评审委员会",
        "authority" => "人社部门",
        "sanction" => "惩戒记录",
        "region" => "地区",
        "token" => "凭证",
        "key" => "密钥",
        "certificate" => "证书",
        "checkpoint" => "检查点",
        "tile" => "日志瓦片",
        "log entry" => "日志条目",
        _ => "资源",
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            // Logged once, here, with the cause; the client sees only the generic problem.
            tracing::error!(error = %self, "request failed");
        }
        let mut response = problem_response(status, &self.to_problem());
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        match &self {
            AppError::Unavailable(_) => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
            }
            AppError::RateLimited { retry_after } => {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            _ => {}
        }
        response
    }
}

pub fn problem_response(status: StatusCode, problem: &Problem) -> Response {
    let mut response = (status, axum::Json(problem)).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    response
}
