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
        let (code, detail, errors) = match self {
            AppError::Invalid { field, code, message_zh, message_en } => (
                "invalid-parameter",
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
                let code = match v.kind {
                    ViolationKind::Forbidden => "forbidden",
                    ViolationKind::Conflict => "conflict",
                    ViolationKind::Invalid => "unprocessable",
                };
                (
                    code,
                    format!("{}: {} / {}", v.field, v.message_zh, v.message_en),
                    vec![FieldError::from_violation(v, None)],
                )
            }
            AppError::Rejected(lines) => (
                "import-rejected",
                format!(
                    "{} 处错误，整个文件未写入 / {} error(s); nothing from the file was written",
                    lines.len(),
                    lines.len()
                ),
                lines.iter().map(|l| FieldError::from_violation(&l.violation, Some(l.line))).collect(),
            ),
            AppError::Unauthenticated { code, message_zh, message_en } => (
                "unauthenticated",
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
                format!("请求体超过 {limit} 字节 / the body exceeds {limit} bytes"),
                vec![],
            ),
            AppError::UnsupportedMediaType(media) => (
                "unsupported-media-type",
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
                format!("未找到{}“{id}” / no {resource} with id {id:?}", resource_zh(resource)),
                vec![FieldError {
                    field: "id".into(),
                    code: "not_found".into(),
                    message_zh: format!("不存在的{}", resource_zh(resource)),
                    message_en: format!("unknown {resource}"),
                    line: None,
                }],
            ),
            AppError::RouteNotFound => ("not-found", "没有这个地址 / no such path".into(), vec![]),
            AppError::MethodNotAllowed => (
                "method-not-allowed",
                "该地址不支持此方法 / this path does not support this method".into(),
                vec![],
            ),
            AppError::RateLimited { retry_after } => (
                "rate-limited",
                format!("此类请求过于频繁，请 {retry_after} 秒后重试 / too many requests of this kind from your address; retry in {retry_after} s"),
                vec![],
            ),
            AppError::NotYetLogged => (
                "not-yet-checkpointed",
                "已记入日志，下一个签名检查点（1 秒内）后可取证明，请稍后重试 / logged; the proof is available after the next signed checkpoint (within a second), retry shortly".into(),
                vec![],
            ),
            _ if status == StatusCode::SERVICE_UNAVAILABLE => (
                "unavailable",
                "数据库暂时无法完成请求（正忙或无法连接），请稍后重试 / the database cannot serve this right now (busy or unreachable); retry shortly".into(),
                vec![],
            ),
            _ => (
                "internal",
                "服务器内部错误，已记录 / an internal error occurred and was logged".into(),
                vec![],
            ),
        };
        Problem {
            type_uri: format!("{PROBLEM_TYPES_PATH}#{code}"),
            title: problem_type(code).title.into(),
            status: status.as_u16(),
            detail,
            code: code.into(),
            errors,
        }
    }
}

/// Where each problem `type` resolves: one page, an anchor per code.
pub const PROBLEM_TYPES_PATH: &str = "/errors";

/// One kind of problem, as documented at [`PROBLEM_TYPES_PATH`].
pub struct ProblemType {
    pub code: &'static str,
    pub status: u16,
    /// Chinese, then English.
    pub title: &'static str,
    /// What it means and what to do, Chinese then English.
    pub meaning: &'static str,
}

/// Every problem this service answers with.
pub const PROBLEM_TYPES: &[ProblemType] = &[
    ProblemType {
        code: "invalid-parameter",
        status: 400,
        title: "请求参数无效 / Invalid request parameter",
        meaning: "查询参数、路径参数或 JSON 语法有误，errors[].field 指明是哪一个。 / A query or path parameter, or the JSON syntax, is malformed; errors[].field names it.",
    },
    ProblemType {
        code: "unauthenticated",
        status: 401,
        title: "需要有效凭证 / Authentication required",
        meaning: "缺少、无法识别或已吊销的 Bearer 凭证。 / A missing, unknown or revoked bearer token.",
    },
    ProblemType {
        code: "forbidden",
        status: 403,
        title: "无权操作 / Forbidden",
        meaning: "凭证角色不符、超出辖区、非监管部门或超出评审权限。 / Wrong role, outside the jurisdiction, not the supervisor, or beyond competence.",
    },
    ProblemType {
        code: "not-found",
        status: 404,
        title: "未找到 / Not found",
        meaning: "没有该资源或该地址。 / No such resource, or no such path.",
    },
    ProblemType {
        code: "method-not-allowed",
        status: 405,
        title: "方法不允许 / Method not allowed",
        meaning: "该地址存在，但不支持此方法。 / The path exists; the method does not.",
    },
    ProblemType {
        code: "conflict",
        status: 409,
        title: "与登记状态冲突 / Conflict",
        meaning: "文号或标识重复、状态冲突、日期倒序，或重复使用的 Idempotency-Key。 / A duplicate document number or id, a state conflict, an out-of-order date, or a reused Idempotency-Key.",
    },
    ProblemType {
        code: "payload-too-large",
        status: 413,
        title: "请求体过大 / Payload too large",
        meaning: "请求体超过该地址的上限，detail 给出上限。 / The body exceeds this endpoint's limit, given in detail.",
    },
    ProblemType {
        code: "unsupported-media-type",
        status: 415,
        title: "不支持的内容类型 / Unsupported media type",
        meaning: "该地址只接受 application/json。 / This endpoint takes application/json only.",
    },
    ProblemType {
        code: "unprocessable",
        status: 422,
        title: "内容不符合规则 / Unprocessable content",
        meaning: "某个字段无效，或内容违反了登记规则；errors[] 逐项说明。 / A field is invalid or a registry rule is broken; errors[] lists each.",
    },
    ProblemType {
        code: "import-rejected",
        status: 422,
        title: "导入被拒绝，未写入任何内容 / Import rejected, nothing written",
        meaning: "批量文件有错误，errors[] 给出每一行；文件中的任何内容都未写入。 / A bulk file had errors, each listed with its line in errors[]; nothing from the file was written.",
    },
    ProblemType {
        code: "rate-limited",
        status: 429,
        title: "请求过于频繁 / Too many requests",
        meaning: "来自同一地址的查询或核验超过了配额；Retry-After 给出等待秒数。 / This address sent more lookups or verifications than its quota; Retry-After gives the seconds to wait.",
    },
    ProblemType {
        code: "internal",
        status: 500,
        title: "内部错误 / Internal error",
        meaning: "服务器缺陷；原因记在服务器日志中，不在应答中。 / A bug; the cause is in the server log, never in the answer.",
    },
    ProblemType {
        code: "unavailable",
        status: 503,
        title: "服务暂不可用 / Service unavailable",
        meaning: "数据库正忙（另一写入持有写锁超过 2 秒）或无法连接；按 Retry-After 重试。 / The database is busy (another writer held the write lock for 2 s) or unreachable; retry after Retry-After.",
    },
    ProblemType {
        code: "not-yet-checkpointed",
        status: 503,
        title: "尚未纳入签名检查点 / Not yet in a checkpoint",
        meaning: "事件已记入日志，但尚无签名检查点覆盖它（1 秒内会有）；按 Retry-After 重试。 / The event is logged but no signed checkpoint covers it yet (one follows within a second); retry after Retry-After.",
    },
];

fn problem_type(code: &str) -> &'static ProblemType {
    PROBLEM_TYPES.iter().find(|t| t.code == code).expect("every problem code is in PROBLEM_TYPES")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_answer_names_a_documented_type_with_its_status() {
        let violation = |kind| Violation::new(kind, "x", "f", "甲", "a");
        let errors = [
            AppError::Rule(violation(ViolationKind::Forbidden)),
            AppError::Rule(violation(ViolationKind::Conflict)),
            AppError::Rule(violation(ViolationKind::Invalid)),
            AppError::Rejected(vec![LineViolation { line: 1, violation: violation(ViolationKind::Invalid) }]),
            AppError::Unauthenticated { code: "missing_token", message_zh: "甲", message_en: "a" },
            AppError::PayloadTooLarge { limit: 10 },
            AppError::UnsupportedMediaType("text/plain".into()),
            AppError::invalid("limit", "out_of_range", "甲", "a"),
            AppError::not_found("committee", "c"),
            AppError::RouteNotFound,
            AppError::NotYetLogged,
            AppError::MethodNotAllowed,
            AppError::RateLimited { retry_after: 3 },
            AppError::Config("c".into()),
            AppError::Unavailable("u".into()),
            AppError::Internal("i".into()),
        ];
        for error in errors {
            let problem = error.to_problem();
            let documented = problem_type(&problem.code);
            assert_eq!(documented.status, problem.status, "{}", problem.code);
            assert_eq!(problem.type_uri, format!("/errors#{}", problem.code));
            assert_eq!(problem.title, documented.title);
        }
        let codes: std::collections::HashSet<_> = PROBLEM_TYPES.iter().map(|t| t.code).collect();
        assert_eq!(codes.len(), PROBLEM_TYPES.len(), "each code once");
    }
}
