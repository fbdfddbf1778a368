//! Application state and the one place routes are assembled. Routes and the OpenAPI
//! document come from the same `routes!` calls, so they cannot disagree.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::CorsLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::api::{admin, authorities, catalog, certificates, committees, health, log, sanctions};
use crate::error::{AppError, problem_response};
use crate::registry_key::RegistryKey;
use crate::store::DynStore;
use crate::transparency::LogSigner;

/// What every handler shares. axum's `State` clones it for each request, so it is one `Arc`
/// (cloning the fields one by one was a percent of a cached read).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub store: DynStore,
    /// Signs status lists and bundles.
    pub registry: Arc<RegistryKey>,
    /// How clients reach this service, e.g. `https://zhicheng.example.cn`; used in the ids of
    /// the credentials it signs.
    pub public_url: Arc<str>,
    /// Signs the transparency log's checkpoints.
    pub log: Arc<LogSigner>,
    /// Rendered committee pages and coverage answers, valid while the store hands out the same record.
    pub pages: crate::api::committees::PageCache,
    /// Signers' public keys, decoded once.
    pub signer_keys: crate::api::certificates::SignerKeys,
    /// Checks the signatures of concurrent verifications together.
    pub signatures: crate::signature_batch::SignatureBatcher,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(store: DynStore, registry: RegistryKey, log: LogSigner, public_url: &str) -> AppState {
        AppState(Arc::new(Shared {
            store,
            registry: Arc::new(registry),
            public_url: public_url.trim_end_matches('/').into(),
            log: Arc::new(log),
            pages: crate::api::committees::PageCache::new(),
            signer_keys: crate::api::certificates::SignerKeys::new(),
            signatures: crate::signature_batch::SignatureBatcher::default(),
        }))
    }
}

/// Largest request body accepted anywhere (bulk endpoints set their own).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

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
        (name = "catalog", description = "系列、级别、地区 / series, levels, regions"),
        (name = "health", description = "liveness and readiness"),
        (name = "certificates", description = "证书与核验 / certificates, keys and verification"),
        (name = "log", description = "透明日志 / transparency log (C2SP tlog-tiles, checkpoints, proofs)"),
        (name = "admin", description = "发布（需凭证）/ publishing, with a bearer token")
    ),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

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

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(committees::list_committees))
        .routes(routes!(committees::get_committee))
        .routes(routes!(committees::get_coverage))
        .routes(routes!(authorities::list_authorities))
        .routes(routes!(authorities::get_authority))
        .routes(routes!(sanctions::list_sanctions))
        .routes(routes!(catalog::list_series))
        .routes(routes!(catalog::list_levels))
        .routes(routes!(catalog::list_regions))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(admin::create_authority))
        .routes(routes!(admin::amend_authority))
        .routes(routes!(admin::create_delegation))
        .routes(routes!(admin::create_committee))
        .routes(routes!(admin::amend_committee))
        .routes(routes!(admin::grant_authorization))
        .routes(routes!(admin::amend_authorization))
        .routes(routes!(admin::act_on_authorization))
        .routes(routes!(admin::publish_sanction))
        .routes(routes!(admin::lift_sanction))
        .routes(routes!(admin::list_events))
        .routes(routes!(admin::create_token, admin::list_tokens))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(admin::import).layer(DefaultBodyLimit::max(admin::MAX_IMPORT_BYTES)))
        .routes(routes!(certificates::list_keys))
        .routes(routes!(certificates::get_key))
        .routes(routes!(certificates::register_key))
        .routes(routes!(certificates::act_on_key))
        .routes(routes!(certificates::issue_certificates))
        .routes(routes!(certificates::act_on_certificate))
        .routes(routes!(certificates::verify_certificate).layer(DefaultBodyLimit::max(certificates::MAX_VERIFY_BYTES)))
        .routes(routes!(certificates::lookup))
        .routes(routes!(certificates::status_list))
        .routes(routes!(certificates::bundle))
        .routes(routes!(log::certificate_proof))
        .routes(routes!(log::checkpoint))
        .routes(routes!(log::tile))
        .routes(routes!(log::key))
        .routes(routes!(log::inclusion))
        .routes(routes!(log::consistency))
        .routes(routes!(log::entries))
}

/// OpenAPI path templates have no catch-all segment: `{*path}` is documented as `{path}`.
fn tidy(mut api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    api.paths.paths =
        std::mem::take(&mut api.paths.paths).into_iter().map(|(k, v)| (k.replace("{*", "{"), v)).collect();
    api
}

/// The OpenAPI document the service serves at `/openapi.json` (and commits as `openapi/openapi.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    tidy(api_router().into_openapi())
}

pub fn build_router(state: AppState) -> Router {
    let (router, api) = api_router().split_for_parts();
    let router = router
        .merge(SwaggerUi::new("/docs").url("/openapi.json", tidy(api)))
        .fallback(|| async { AppError::RouteNotFound })
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .with_state(state);
    // One `layer` call for the whole stack: each call wraps every route in another boxed service,
    // cloned on every request.
    with_request_spans(router).layer(
        ServiceBuilder::new()
            .layer(CatchPanicLayer::custom(|_| panic_response()))
            // Every CORS answer is the same whatever the request's origin, so no `Vary`
            // (tower-http 0.7 drops it for `permissive` too; building it was a percent of a read).
            .layer(CorsLayer::permissive().max_age(Duration::from_secs(3600)).vary([] as [axum::http::HeaderName; 0]))
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES)),
    )
}

/// Per-request spans and response events, at DEBUG: at INFO their formatted fields cost a
/// quarter of a cached read's throughput (bench/RESULTS.md). With DEBUG off when the router is
/// built (the filter is fixed at start) the layer would only read clocks and wrap bodies for
/// nothing, so it is left out. `RUST_LOG=zhicheng=debug,tower_http=debug` turns them on.
fn with_request_spans(router: Router) -> Router {
    if !tracing::enabled!(tracing::Level::DEBUG)
        && !tracing::enabled!(target: "tower_http::trace", tracing::Level::DEBUG)
    {
        return router;
    }
    router.layer(
        TraceLayer::new_for_http()
            .make_span_with(|req: &Request<_>| {
                let route = req.extensions().get::<MatchedPath>().map_or(req.uri().path(), |m| m.as_str());
                tracing::debug_span!("request", method = %req.method(), http.route = %route)
            })
            .on_failure(()),
    )
}

fn panic_response() -> Response {
    tracing::error!("a request handler panicked");
    let problem = AppError::Internal("panic".into()).to_problem();
    problem_response(StatusCode::INTERNAL_SERVER_ERROR, &problem).into_response()
}
