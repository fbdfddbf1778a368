//! Authorities: the tree of HR departments and what each may authorize.

use axum::Json;
use axum::extract::State;

use crate::http::extract::Path;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::params::{self, Params};
use super::views::{AuthorityDetailView, AuthorityView, CompetenceView, ListMeta};
use super::{Page, Scan, collect_page};
use crate::domain::authority::AuthorityLevel;
use crate::domain::code::Code;
use crate::http::problem::{AppError, Problem};
use crate::http::state::AppState;
use crate::store::AuthorityFilter;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListAuthoritiesParams {
    /// 6-digit GB/T 2260 code: authorities whose jurisdiction lies inside this region.
    region: Option<String>,
    /// Only the direct children of this authority.
    parent: Option<String>,
    /// national, provincial, municipal or county.
    #[param(value_type = Option<crate::domain::authority::AuthorityLevel>, inline)]
    level: Option<String>,
    cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    limit: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorityList {
    pub authorities: Vec<AuthorityView>,
    pub meta: ListMeta,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorityEnvelope {
    pub authority: AuthorityDetailView,
}

/// List authorities.
#[utoipa::path(get, path = "/api/v1/authorities", tag = "authorities", params(ListAuthoritiesParams),
    responses((status = 200, body = AuthorityList), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list_authorities(
    State(state): State<AppState>,
    Params(p): Params<ListAuthoritiesParams>,
) -> Result<Json<AuthorityList>, AppError> {
    let filter = AuthorityFilter {
        region: params::text(&p.region).map(|r| params::region("region", r)).transpose()?,
        parent_id: params::text(&p.parent).map(str::to_string),
    };
    let level = params::text(&p.level)
        .map(|l| {
            AuthorityLevel::parse(l).ok_or_else(|| {
                AppError::invalid(
                    "level",
                    "unknown_level",
                    format!("未知的层级“{l}”"),
                    format!("unknown authority level {l:?}; expected national, provincial, municipal or county"),
                )
            })
        })
        .transpose()?;
    let limit = params::limit(&p.limit)?;
    let cursor = params::cursor(&p.cursor)?;
    let store = state.store.clone();
    let scan = Scan::for_page(limit, level.is_some(), state.scan_budget);
    let Page { items, next_cursor, partial } = collect_page(
        cursor,
        limit,
        scan,
        |a: &crate::domain::authority::Authority| level.is_none_or(|l| a.level == l),
        |after, n| {
            let store = store.clone();
            let filter = filter.clone();
            async move { store.authorities_after(&filter, after.as_deref(), n).await }
        },
        |a| a.id.clone(),
    )
    .await?;
    let authorities: Vec<AuthorityView> = items.iter().map(AuthorityView::from).collect();
    Ok(Json(AuthorityList {
        meta: ListMeta { count: authorities.len(), next_cursor, partial, as_of: None },
        authorities,
    }))
}

/// One authority, with its competence (delegations received) and its children.
#[utoipa::path(get, path = "/api/v1/authorities/{id}", tag = "authorities",
    params(("id" = String, Path, description = "Authority id")),
    responses((status = 200, body = AuthorityEnvelope), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_authority(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AuthorityEnvelope>, AppError> {
    let graph = state.store.authority_graph().await?;
    let authority = graph.get(&id).ok_or_else(|| AppError::not_found("authority", &id))?;
    let children = state
        .store
        .authorities_after(&AuthorityFilter { region: None, parent_id: Some(id.clone()) }, None, 10_000)
        .await?;
    let basis = match authority.level {
        AuthorityLevel::National | AuthorityLevel::Provincial => "inherent",
        AuthorityLevel::Municipal | AuthorityLevel::County => "delegated",
    };
    Ok(Json(AuthorityEnvelope {
        authority: AuthorityDetailView {
            authority: AuthorityView::from(authority),
            competence: CompetenceView { basis: basis.into(), delegations: graph.delegations_to(&id).to_vec() },
            children: children.iter().map(AuthorityView::from).collect(),
        },
    }))
}
