//! HTTP handlers, one module per resource. Each handler parses its parameters, asks the
//! store or a domain function, and maps the answer to a response type.

pub mod admin;
pub mod authorities;
pub mod catalog;
pub mod certificates;
pub mod committees;
pub mod extract;
pub mod health;
pub mod log;
pub mod openapi;
pub mod page_cache;
pub mod params;
pub mod problem;
pub mod router;
pub mod sanctions;
pub mod state;
pub mod views;

use std::future::Future;

pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Fills one page of `limit` items that pass `wanted`, reading the store in id order from
/// `cursor` in batches, so that filters on derived state (status as of a date) paginate
/// exactly like filters the database applies itself.
pub async fn collect_page<T, E, F, Fut>(
    cursor: Option<String>,
    limit: u32,
    wanted: impl Fn(&T) -> bool,
    fetch: F,
    id_of: impl Fn(&T) -> String,
) -> Result<Page<T>, E>
where
    F: Fn(Option<String>, u32) -> Fut,
    Fut: Future<Output = Result<Vec<T>, E>>,
{
    // One row more than the page: with the filters the database applies first (name, region,
    // authority, series), most rows read are kept, and reading more only renders waste.
    let batch = limit + 1;
    let mut after = cursor;
    let mut items = Vec::new();
    loop {
        let rows = fetch(after.clone(), batch).await?;
        let exhausted = (rows.len() as u32) < batch;
        for row in rows {
            after = Some(id_of(&row));
            if wanted(&row) {
                if items.len() == limit as usize {
                    // There is at least one more: the page ends at the last item kept.
                    let next = items.last().map(&id_of).map(|id: String| params::encode_cursor(&id));
                    return Ok(Page { items, next_cursor: next });
                }
                items.push(row);
            }
        }
        if exhausted {
            return Ok(Page { items, next_cursor: None });
        }
    }
}
