//! HTTP handlers, one module per resource. Each handler parses its parameters, asks the
//! store or a domain function, and maps the answer to a response type.

pub mod access_log;
pub mod admin;
pub mod authorities;
pub mod bulk;
pub mod catalog;
pub mod certificates;
pub mod changes;
pub mod committees;
pub mod complaints;
pub mod draws;
pub mod errors_page;
pub mod etag;
pub mod exports;
pub mod extract;
pub mod health;
pub mod limits;
pub mod log;
pub mod match_index;
pub mod matching;
pub mod metrics;
pub mod notices;
pub mod openapi;
pub mod page_cache;
pub mod pages;
pub mod params;
pub mod problem;
pub mod rate_limit;
pub mod request_metrics;
pub mod router;
pub mod sanctions;
pub mod serve;
pub mod sessions;
pub mod state;
pub mod views;
pub mod watch;

use std::future::Future;

pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
    /// The scan budget ran out before the page filled: `next_cursor` resumes after the last
    /// row read, and the page may hold fewer than `limit` items (or none).
    pub partial: bool,
}

/// How much of a table one page may read: `first` rows, then twice as many each time up to
/// `most` at once, and `max_rows` in all.
#[derive(Debug, Clone, Copy)]
pub struct Scan {
    pub first: u32,
    pub most: u32,
    pub max_rows: usize,
}

impl Scan {
    /// A page of `limit`. The first read is one row more than the page: when the filters the
    /// database applies keep most rows, that is all a page costs. When a filter on derived
    /// state (status or coverage on a date) drops rows, each further read doubles, up to 200
    /// rows, and a page reads at most `budget` rows: a filter that matches little costs a
    /// bounded read, and the client follows `next_cursor`.
    pub fn for_page(limit: u32, derived: bool, budget: usize) -> Scan {
        let max_rows = budget.max(limit as usize + 1);
        let most = if derived { (limit + 1).max(DERIVED_FILTER_BATCH) } else { limit + 1 };
        Scan { first: limit + 1, most: most.min(u32::try_from(max_rows).unwrap_or(u32::MAX)), max_rows }
    }
}

/// The most rows read at once under a filter on derived state.
const DERIVED_FILTER_BATCH: u32 = 200;

/// Fills one page of `limit` items that pass `wanted`, reading the store in id order from
/// `cursor` in batches, so that filters on derived state (status as of a date) paginate
/// exactly like filters the database applies itself — within the `scan` budget.
pub async fn collect_page<T, E, F, Fut>(
    cursor: Option<String>,
    limit: u32,
    scan: Scan,
    wanted: impl Fn(&T) -> bool,
    fetch: F,
    id_of: impl Fn(&T) -> String,
) -> Result<Page<T>, E>
where
    F: Fn(Option<String>, u32) -> Fut,
    Fut: Future<Output = Result<Vec<T>, E>>,
{
    let mut after = cursor;
    let mut items = Vec::new();
    let mut read = 0;
    let mut batch = scan.first.min(scan.most);
    loop {
        let rows = fetch(after.clone(), batch).await?;
        let exhausted = (rows.len() as u32) < batch;
        read += rows.len();
        let left = u32::try_from(scan.max_rows.saturating_sub(read)).unwrap_or(u32::MAX);
        batch = batch.saturating_mul(2).min(scan.most).min(left.max(1));
        for row in rows {
            after = Some(id_of(&row));
            if wanted(&row) {
                if items.len() == limit as usize {
                    // There is at least one more: the page ends at the last item kept.
                    let next = items.last().map(&id_of).map(|id: String| params::encode_cursor(&id));
                    return Ok(Page { items, next_cursor: next, partial: false });
                }
                items.push(row);
            }
        }
        if exhausted {
            return Ok(Page { items, next_cursor: None, partial: false });
        }
        if read >= scan.max_rows {
            let next = after.as_deref().map(params::encode_cursor);
            return Ok(Page { items, next_cursor: next, partial: true });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `rows` (ids in order) after `after`, `limit` at a time, counting the reads.
    async fn pages(rows: &[u32], limit: u32, wanted: fn(&u32) -> bool) -> (Vec<Vec<u32>>, usize) {
        pages_within(rows, limit, Scan::for_page(limit, false, usize::MAX), wanted).await
    }

    async fn pages_within(rows: &[u32], limit: u32, scan: Scan, wanted: fn(&u32) -> bool) -> (Vec<Vec<u32>>, usize) {
        let reads = std::cell::Cell::new(0);
        let fetch = |after: Option<String>, n: u32| {
            reads.set(reads.get() + 1);
            let after: u32 = after.map_or(0, |a| a.parse().unwrap());
            let batch: Vec<u32> = rows.iter().copied().filter(|r| *r > after).take(n as usize).collect();
            async move { Ok::<_, ()>(batch) }
        };
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = collect_page(cursor.clone(), limit, scan, wanted, fetch, |r: &u32| r.to_string()).await.unwrap();
            out.push(page.items);
            match page.next_cursor {
                Some(next) => cursor = params::cursor(&Some(next)).unwrap(),
                None => return (out, reads.get()),
            }
        }
    }

    #[tokio::test]
    async fn pages_are_exact_whatever_the_filter_keeps() {
        let rows: Vec<u32> = (1..=10).collect();
        /// (what, limit, wanted, pages)
        type Case<'a> = (&'a str, u32, fn(&u32) -> bool, Vec<Vec<u32>>);
        let cases: [Case; 6] = [
            ("all, pages of 3", 3, |_| true, vec![vec![1, 2, 3], vec![4, 5, 6], vec![7, 8, 9], vec![10]]),
            ("all, one page exactly full", 10, |_| true, vec![(1..=10).collect()]),
            ("even ones, pages of 2", 2, |r| r % 2 == 0, vec![vec![2, 4], vec![6, 8], vec![10]]),
            ("a rare match", 2, |r| *r == 9, vec![vec![9]]),
            ("nothing matches", 4, |_| false, vec![vec![]]),
            ("the last row is the last match", 1, |r| *r == 10 || *r == 1, vec![vec![1], vec![10]]),
        ];
        for (name, limit, wanted, expected) in cases {
            let (got, _) = pages(&rows, limit, wanted).await;
            assert_eq!(got, expected, "{name}");
        }
    }

    #[tokio::test]
    async fn a_full_page_reads_one_row_ahead_and_no_more() {
        let rows: Vec<u32> = (1..=100).collect();
        let (got, reads) = pages(&rows[..7], 3, |_| true).await;
        assert_eq!(got.concat(), (1..=7).collect::<Vec<_>>());
        assert_eq!(reads, 3, "each page is one read of limit + 1 rows");
    }

    #[tokio::test]
    async fn a_rare_match_costs_each_page_a_bounded_read_and_the_cursor_resumes() {
        let rows: Vec<u32> = (1..=1000).collect();
        let scan = Scan { first: 25, most: 50, max_rows: 100 };
        let (got, reads) = pages_within(&rows, 5, scan, |r| r % 300 == 0).await;
        assert_eq!(got.concat(), [300, 600, 900], "nothing skipped, nothing twice");
        // Ten pages of 100 rows each (reads of 25, 50 and the 25 left of the budget), most of
        // them empty, and a last read that finds the end.
        assert_eq!(got.len(), 11);
        assert!(got.iter().any(Vec::is_empty));
        assert_eq!(reads, 10 * 3 + 1);
        // A budget never stops a full page of kept rows.
        assert_eq!(Scan::for_page(500, true, 10).max_rows, 501);
    }
}
