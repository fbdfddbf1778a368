//! The OpenAPI document's frame: title, tags, the bearer scheme. The paths come from the
//! routes themselves (`router.rs`).

use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "zhicheng — 职称评审开放登记与核验 / open registry of professional-title evaluation",
        description = "Which evaluation committee (评审委员会) is authorized for what, by whom, until when; \
            the sanctions against committees and people; and the answer to: was this committee authorized \
            to evaluate series S, specialty P, level L, for an applicant from region R, on date D? \
            Errors are RFC 9457 problem+json with Chinese and English text.",
        license(name = "Apache-2.0")
    ),
    tags(
        (name = "committees", description = "评审委员会 / evaluation committees"),
        (name = "authorities", description = "人社部门 / HR authorities"),
        (name = "sanctions", description = "监管处理 / sanctions"),
        (name = "sessions", description = "评审会议 / evaluation sessions"),
        (name = "complaints", description = "投诉举报 / complaints"),
        (name = "supervision", description = "随机抽查与检查周期 / spot-check draws and the inspection cycle"),
        (name = "catalog", description = "系列、级别、地区 / series, levels, regions"),
        (name = "health", description = "liveness and readiness"),
        (name = "meta", description = "错误类型等说明 / problem types and other documentation"),
        (name = "certificates", description = "证书与核验 / certificates, keys and verification"),
        (name = "bulk", description = "批量导出 / whole public tables for mirrors and regulators"),
        (name = "watch", description = "关注清单与通知 / watch-lists and their webhooks (Standard Webhooks, Ed25519)"),
        (name = "log", description = "透明日志 / transparency log (C2SP tlog-tiles, checkpoints, proofs)"),
        (name = "admin", description = "发布（需凭证）/ publishing, with a bearer token")
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// Declares the bearer-token scheme the admin endpoints use.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("zct_… API token")).build(),
            ),
        );
    }
}

/// OpenAPI path templates have no catch-all segment: `{*path}` is documented as `{path}`.
pub fn tidy(mut api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    api.paths.paths =
        std::mem::take(&mut api.paths.paths).into_iter().map(|(k, v)| (k.replace("{*", "{"), v)).collect();
    for item in api.paths.paths.values_mut() {
        let operations =
            [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch, &mut item.head];
        for operation in operations.into_iter().flatten() {
            describe_responses(operation);
        }
    }
    api
}

/// OpenAPI requires every response to have a description; a response declared with only a
/// status and a body gets its status's meaning.
fn describe_responses(operation: &mut utoipa::openapi::path::Operation) {
    use utoipa::openapi::RefOr;
    for (status, response) in operation.responses.responses.iter_mut() {
        if let RefOr::T(response) = response
            && response.description.is_empty()
        {
            response.description = match status.as_str() {
                "200" => "OK",
                "201" => "Created",
                "304" => "Not modified",
                "400" => "Malformed request (problem+json)",
                "401" => "Authentication required (problem+json)",
                "403" => "Forbidden (problem+json)",
                "404" => "Not found (problem+json)",
                "409" => "Conflict (problem+json)",
                "413" => "Payload too large (problem+json)",
                "422" => "Unprocessable content (problem+json)",
                "429" => "Too many requests (problem+json, Retry-After)",
                "503" => "Unavailable (problem+json, Retry-After)",
                "4XX" => "The request was refused (problem+json)",
                "5XX" => "The service failed or is unavailable (problem+json)",
                _ => "Answer",
            }
            .to_string();
        }
    }
}
