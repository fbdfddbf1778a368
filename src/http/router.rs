//! The one place routes are assembled. Routes and the OpenAPI document come from the same
//! `routes!` calls, so they cannot disagree.

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

use super::extract::MAX_BODY_BYTES;
use super::limits::RateLimits;
use super::openapi::{ApiDoc, tidy};
use super::problem::{AppError, problem_response};
use super::rate_limit::{limited, limited_page};
use super::state::AppState;
use super::{
    admin, authorities, bulk, catalog, certificates, changes, committees, complaints, draws, errors_page, exports,
    health, log, matching, notices, pages, sanctions, sessions, watch,
};

fn api_router(limits: &RateLimits) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(committees::list_committees))
        .routes(routes!(committees::get_committee))
        .routes(routes!(committees::get_coverage))
        .routes(routes!(authorities::list_authorities))
        .routes(routes!(authorities::get_authority))
        .routes(routes!(sanctions::list_sanctions))
        .routes(routes!(sanctions::negative_lists))
        .routes(routes!(sessions::list_sessions))
        .routes(routes!(sessions::get_session))
        .routes(routes!(draws::list_draws))
        .routes(routes!(draws::get_draw))
        .routes(routes!(notices::list_notices))
        .routes(routes!(notices::get_notice))
        .routes(routes!(draws::inspection_cycle))
        .routes(routes!(catalog::list_series))
        .routes(routes!(catalog::list_levels))
        .routes(routes!(catalog::list_regions))
        .routes(routes!(errors_page::problem_types))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
        .routes(routes!(super::metrics::metrics))
        .routes(routes!(admin::registry::create_authority))
        .routes(routes!(admin::registry::amend_authority))
        .routes(routes!(admin::registry::create_delegation))
        .routes(routes!(admin::registry::create_committee))
        .routes(routes!(admin::registry::amend_committee))
        .routes(routes!(admin::authorizations::grant_authorization))
        .routes(routes!(admin::authorizations::amend_authorization))
        .routes(routes!(admin::authorizations::act_on_authorization))
        .routes(routes!(admin::sanctions::publish_sanction))
        .routes(routes!(admin::sanctions::lift_sanction))
        .routes(routes!(admin::sessions::register_session))
        .routes(routes!(admin::sessions::publish_outcome))
        .routes(routes!(admin::draws::plan_draw))
        .routes(routes!(admin::sessions::publish_notice))
        .routes(routes!(admin::sessions::issue_supervisor))
        .routes(routes!(admin::sessions::revoke_supervisor))
        .routes(routes!(admin::sessions::record_visit))
        .routes(routes!(complaints::decide_complaint))
        .routes(limited(routes!(complaints::file_complaint), limits.lookups, limits))
        .routes(limited(routes!(complaints::complaint_progress), limits.lookups, limits))
        .routes(routes!(admin::draws::record_inspection))
        .routes(routes!(admin::events::list_events))
        .routes(routes!(admin::tokens::create_token, admin::tokens::list_tokens))
        .routes(routes!(admin::tokens::revoke_token))
        .routes(routes!(admin::import::import).layer(DefaultBodyLimit::max(admin::import::MAX_IMPORT_BYTES)))
        .routes(routes!(certificates::list_keys))
        .routes(routes!(certificates::get_key))
        .routes(routes!(certificates::register_key))
        .routes(routes!(certificates::act_on_key))
        .routes(routes!(certificates::holder_id_digest))
        .routes(routes!(certificates::issue_certificates))
        .routes(routes!(certificates::act_on_certificate))
        .routes(limited(
            routes!(certificates::verify_certificate).layer(DefaultBodyLimit::max(certificates::MAX_VERIFY_BYTES)),
            limits.verifications,
            limits,
        ))
        .routes(limited(routes!(certificates::lookup), limits.lookups, limits))
        .routes(limited(routes!(bulk::bulk_verify), limits.bulk, limits))
        .routes(
            limited(routes!(matching::bulk_match), limits.bulk, limits)
                .layer(DefaultBodyLimit::max(matching::MAX_MATCH_BYTES)),
        )
        .routes(routes!(matching::reconcile_manifest))
        .routes(limited(routes!(matching::reconcile), limits.verifications, limits))
        .routes(routes!(certificates::status_list))
        .routes(routes!(certificates::bundle))
        .routes(routes!(certificates::registry_key))
        .routes(routes!(log::certificate_proof))
        .routes(routes!(log::checkpoint))
        .routes(routes!(log::tile))
        .routes(routes!(log::key))
        .routes(routes!(log::inclusion))
        .routes(routes!(log::consistency))
        .routes(routes!(log::entries))
        .routes(routes!(changes::changes))
        .routes(limited(routes!(exports::export_table), limits.bulk, limits))
        .routes(
            routes!(watch::get_watch_list, watch::change_watch_list)
                .layer(DefaultBodyLimit::max(watch::MAX_WATCH_BYTES)),
        )
        .routes(routes!(watch::set_endpoint, watch::remove_endpoint))
        .routes(routes!(watch::deliveries))
        .routes(routes!(watch::webhook_key))
}

/// The pages for people (HTML; not part of the API document). Verification through a page is
/// the same oracle as through the API, under the same per-client quota.
fn page_router(limits: &RateLimits) -> Router<AppState> {
    use axum::routing::{get, post};
    Router::new()
        .route("/", get(pages::registry::home))
        .route("/committees", get(pages::committees::committees))
        .route("/committees/{id}", get(pages::committees::committee))
        .route("/sanctions", get(pages::registry::sanctions))
        .route("/supervision", get(pages::supervision::supervision))
        .route("/authorities/{id}", get(pages::registry::authority))
        .route("/log", get(pages::registry::log))
        .route("/about", get(pages::registry::about))
        .route("/v", get(pages::verify::open_qr))
        .route("/verify/recheck.svg", get(pages::verify::recheck_qr))
        .route(pages::assets::JSQR_PATH, get(pages::assets::jsqr))
        .route("/assets/jsQR-1.4.0.LICENSE.txt", get(pages::assets::jsqr_license))
        .route(pages::assets::SCAN_PATH, get(pages::assets::scan))
        .route(
            "/verify",
            limited_page(
                get(pages::verify::verify_form).post(pages::verify::verify_submit),
                limits.verifications,
                limits,
            ),
        )
        .route(
            "/verify/file",
            limited_page(post(pages::verify::verify_file), limits.verifications, limits)
                .layer(DefaultBodyLimit::max(pages::verify::MAX_UPLOAD_BYTES + 4096)),
        )
}

/// No such path: a page for a browser (it asks for HTML), problem+json for everyone else.
async fn not_found(headers: axum::http::HeaderMap, uri: axum::http::Uri) -> Response {
    let wants_html = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html {
        let english = uri.query().is_some_and(|q| q.split('&').any(|p| p == "lang=en"));
        let lang = if english { pages::Lang::En } else { pages::Lang::Zh };
        return pages::not_found_page(lang, uri.path());
    }
    AppError::RouteNotFound.into_response()
}

/// The OpenAPI document the service serves at `/openapi.json` (and commits as `openapi/openapi.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    tidy(api_router(&RateLimits::default()).into_openapi())
}

pub fn build_router(state: AppState) -> Router {
    let (router, api) = api_router(&state.limits).split_for_parts();
    let identify = axum::middleware::from_fn_with_state(state.clone(), super::rate_limit::identify);
    let observe = axum::middleware::from_fn_with_state(state.clone(), super::metrics::observe);
    let router = router
        .merge(page_router(&state.limits))
        .merge(SwaggerUi::new("/docs").url("/openapi.json", tidy(api)))
        .fallback(not_found)
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .with_state(state);
    // One `layer` call for the whole stack: each call wraps every route in another boxed service,
    // cloned on every request.
    with_request_spans(router).layer(
        ServiceBuilder::new()
            // Outermost: every answer is counted and logged, panics and refusals too.
            .layer(observe)
            .layer(CatchPanicLayer::custom(|_| panic_response()))
            // Every CORS answer is the same whatever the request's origin, so no `Vary`
            // (tower-http 0.7 drops it for `permissive` too; building it was a percent of a read).
            .layer(CorsLayer::permissive().max_age(Duration::from_secs(3600)).vary([] as [axum::http::HeaderName; 0]))
            .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
            .layer(axum::middleware::from_fn(super::etag::revalidate))
            // Before the quotas, which count a request with a valid API key against the key.
            .layer(identify),
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
