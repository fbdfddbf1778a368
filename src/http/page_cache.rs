//! Rendered committee pages and coverage answers, kept while the record they came from is current.

use std::sync::Arc;

use axum::body::Bytes;

use crate::domain::authority::AuthorityGraph;
use crate::domain::committee::CommitteeRecord;

/// An answer rendered from a committee record (and the authority graph, for coverage).
#[derive(Clone)]
pub struct Rendered {
    pub record: Arc<CommitteeRecord>,
    pub graph: Option<Arc<AuthorityGraph>>,
    /// The store's `committees_version` read before the record was.
    pub version: Option<u64>,
    pub page: Kept,
}

/// A kept answer and its strong ETag, computed once when it was rendered.
#[derive(Clone)]
pub struct Kept {
    pub body: Bytes,
    pub etag: axum::http::HeaderValue,
}

impl Kept {
    pub fn new(body: Bytes) -> Kept {
        Kept { etag: crate::http::etag::tag(&body), body }
    }
}

/// Rendered committee pages and coverage answers. An entry is current while the store hands
/// out the very record (and graph) it was rendered from: the store's cache replaces a record
/// exactly when a write changes it, so no separate invalidation exists to get wrong. While the
/// store's `committees_version` has not moved, no record can have changed, and an entry is
/// served without reading its record at all.
#[derive(Clone)]
pub struct PageCache(moka::sync::Cache<String, Rendered>);

impl PageCache {
    /// Up to 32 MiB of rendered answers.
    pub fn new() -> PageCache {
        let weigher = |key: &String, r: &Rendered| u32::try_from(key.len() + r.page.body.len()).unwrap_or(u32::MAX);
        PageCache(moka::sync::Cache::builder().weigher(weigher).max_capacity(32 * 1024 * 1024).build())
    }

    /// The kept answer, when no committee record can have changed since it was rendered.
    pub fn unchanged(&self, key: &str, version: Option<u64>) -> Option<Kept> {
        let r = self.0.get(key)?;
        (version.is_some() && r.version == version).then_some(r.page)
    }

    /// The kept answer, when it was rendered from `record` (and `graph`); kept again under
    /// `version`, read before `record` was.
    pub fn current(
        &self,
        key: &str,
        record: &Arc<CommitteeRecord>,
        graph: Option<&Arc<AuthorityGraph>>,
        version: Option<u64>,
    ) -> Option<Kept> {
        let mut r = self.0.get(key)?;
        let same_graph = r.graph.as_ref().map(Arc::as_ptr) == graph.map(Arc::as_ptr);
        if !(Arc::ptr_eq(&r.record, record) && same_graph) {
            return None;
        }
        let page = r.page.clone();
        if r.version != version {
            r.version = version;
            self.0.insert(key.to_string(), r);
        }
        Some(page)
    }

    pub fn keep(&self, key: String, rendered: Rendered) {
        self.0.insert(key, rendered);
    }
}

impl Default for PageCache {
    fn default() -> Self {
        PageCache::new()
    }
}
