//! `zhicheng init`: the root of a real registry on an empty database — the national authority
//! and any provincial authorities named, from the embedded catalog — and the national
//! authority's first admin token, printed once. Everything after is published through the API.

use crate::cli::config::InitArgs;
use crate::domain::authority::{Authority, AuthorityLevel};
use crate::domain::catalog::{Catalog, NATIONWIDE};
use crate::domain::publish::Role;
use crate::http::problem::AppError;
use crate::store::Dataset;

/// The national authority's id; a province's is `hr-<its code>`, as in the demo.
fn authority_id(region: &str) -> String {
    format!("hr-{region}")
}

/// The authorities `init` creates: the ministry, and under it each named province.
fn roots(provinces: &[String]) -> Result<Vec<Authority>, AppError> {
    let catalog = Catalog::get();
    let mut out = vec![Authority {
        id: authority_id(NATIONWIDE),
        name: "人力资源和社会保障部".into(),
        level: AuthorityLevel::National,
        region: NATIONWIDE.into(),
        parent_id: None,
    }];
    for code in provinces {
        let region = catalog.region(code).filter(|r| r.parent.as_deref() == Some(NATIONWIDE)).ok_or_else(|| {
            AppError::Config(format!(
                "“{code}”不是省级地区代码（GB/T 2260，如 220000） / {code} is not a province's GB/T 2260 code (e.g. 220000)"
            ))
        })?;
        // The four municipalities have a bureau (局); the provinces and regions a department (厅).
        let office = if region.name.ends_with('市') { "局" } else { "厅" };
        out.push(Authority {
            id: authority_id(code),
            name: format!("{}人力资源和社会保障{office}", region.name),
            level: AuthorityLevel::Provincial,
            region: code.clone(),
            parent_id: Some(authority_id(NATIONWIDE)),
        });
    }
    Ok(out)
}

pub async fn run(args: &InitArgs) -> Result<(), AppError> {
    let authorities = roots(&args.province)?;
    let store = super::open(&args.database.database_url, true).await?;
    if store.authority_graph().await?.authorities().next().is_some() {
        return Err(AppError::Config(
            "数据库中已有部门，init 只用于空数据库 / the registry already has authorities: init runs once, on an empty database"
                .into(),
        ));
    }
    let created: Vec<String> = authorities.iter().map(|a| a.id.clone()).collect();
    store.import_dataset(&Dataset { authorities, ..Dataset::default() }, "init").await?;
    let root = authority_id(NATIONWIDE);
    let (token, secret) = store.create_token(&root, Role::Admin, None, Some("init"), "cli", None).await?;
    tracing::info!(authorities = ?created, token.id = %token.id, "registry initialized; the admin token of {root} is shown once");
    println!("{secret}");
    Ok(())
}
