//! The store's errors say what happened in persistence terms, and the HTTP layer maps them:
//! a unique-key violation under the write lock is a bug (500), never "written concurrently".

use zhicheng::http::problem::AppError;
use zhicheng::store::StoreError;

use crate::fixtures;
use crate::support::{TestApp, both};

both!(a_unique_violation_under_the_write_lock_is_an_internal_error);

async fn a_unique_violation_under_the_write_lock_is_an_internal_error(app: TestApp) {
    app.load(&fixtures::registry()).await;
    let counts = app.store.counts().await.unwrap();
    // A trusted load of the same records again collides with their primary keys.
    let err = app.store.import_dataset(&fixtures::registry(), "fixture").await.unwrap_err();
    assert!(matches!(err, StoreError::Internal(_)), "{err:?}");
    assert_eq!(AppError::from(err).status().as_u16(), 500);
    // Nothing of the failed load stayed behind.
    assert_eq!(app.store.counts().await.unwrap().committees, counts.committees);
    assert_eq!(
        app.store.log_size().await.unwrap(),
        app.store.events_after(&Default::default(), None, 100_000).await.unwrap().len() as i64
    );
}
