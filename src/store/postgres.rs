//! PostgreSQL, for production: several API nodes on one database.

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::{Pool, Postgres};

pub struct PgStore {
    pool: Pool<Postgres>,
}

impl PgStore {
    pub const BACKEND: &'static str = "postgres";

    pub async fn connect(url: &str) -> Result<Self, AppError> {
        let pool =
            PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(10)).connect(url).await?;
        sqlx::migrate!("migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| AppError::Internal(format!("migration failed: {e}")))?;
        Ok(PgStore { pool })
    }
}

super::sql::sql_store!(PgStore, Postgres);
super::write::sql_writes!(PgStore, Postgres);
