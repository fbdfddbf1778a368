//! The catalog: series, levels and regions.

use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::params::{self, Params};
use crate::domain::catalog::{Catalog, Level, NATIONWIDE, Region, Series};
use crate::http::problem::{AppError, Problem};

#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesList {
    pub series: Vec<Series>,
}

/// The 27 professional-title series.
#[utoipa::path(get, path = "/api/v1/catalog/series", tag = "catalog", responses((status = 200, body = SeriesList)))]
pub async fn list_series() -> Json<SeriesList> {
    Json(SeriesList { series: Catalog::get().series().to_vec() })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LevelView {
    pub code: Level,
    pub name_zh: String,
    /// 0 for the lowest level.
    pub rank: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LevelList {
    pub levels: Vec<LevelView>,
}

/// The five title levels, lowest first.
#[utoipa::path(get, path = "/api/v1/catalog/levels", tag = "catalog", responses((status = 200, body = LevelList)))]
pub async fn list_levels() -> Json<LevelList> {
    let levels = Level::ALL
        .iter()
        .enumerate()
        .map(|(rank, l)| LevelView { code: *l, name_zh: l.name_zh().into(), rank })
        .collect();
    Json(LevelList { levels })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RegionParams {
    /// The parent region's 6-digit code; `000000` (the default) lists the provinces.
    #[param(pattern = r"^[0-9]{6}$")]
    parent: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegionList {
    pub parent: Region,
    pub regions: Vec<Region>,
}

/// GB/T 2260 regions: the children of `parent`.
#[utoipa::path(get, path = "/api/v1/catalog/regions", tag = "catalog", params(RegionParams),
    responses((status = 200, body = RegionList), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list_regions(Params(p): Params<RegionParams>) -> Result<Json<RegionList>, AppError> {
    let parent = match params::text(&p.parent) {
        None => NATIONWIDE.to_string(),
        Some(NATIONWIDE) => NATIONWIDE.to_string(),
        Some(code) => params::region("parent", code)?,
    };
    let catalog = Catalog::get();
    let regions = catalog.region_children(&parent).into_iter().cloned().collect();
    let parent = catalog.region(&parent).cloned().expect("validated region exists");
    Ok(Json(RegionList { parent, regions }))
}
