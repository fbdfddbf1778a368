//! API tokens: created with a secret shown once, looked up by the secret's digest, revoked.

#[allow(clippy::wildcard_imports)]
use super::*;

#[async_trait::async_trait]
impl Tokens for ThisStore {
    async fn create_token(
        &self,
        authority_id: &str,
        role: Role,
        label: Option<&str>,
        created_by: &str,
    ) -> StoreResult<(TokenInfo, String)> {
        let secret = crate::store::secrets::generate_secret();
        let id = crate::publish::ids::new_id("tok_");
        let exists = sqlx::query_scalar::<_, i32>("SELECT 1 FROM authorities WHERE id = $1")
            .bind(authority_id)
            .fetch_optional(&self.pool)
            .await?;
        if exists.is_none() {
            return Err(StoreError::Refused(Violation::unknown("authority_id", "部门", "authority", authority_id)));
        }
        sqlx::query("INSERT INTO api_tokens (id, authority_id, role, secret_sha256, label, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(&id)
            .bind(authority_id)
            .bind(role.code())
            .bind(crate::store::secrets::digest(&secret))
            .bind(label)
            .bind(Utc::now())
            .bind(created_by)
            .execute(&self.pool)
            .await?;
        let row: TokenRow = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {TOKEN_COLUMNS} WHERE id = $1")))
            .bind(&id)
            .fetch_one(&self.pool)
            .await?;
        Ok((TokenInfo::try_from(row)?, secret))
    }

    async fn authenticate(&self, secret: &str) -> StoreResult<crate::store::TokenCheck> {
        let row: Option<TokenRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {TOKEN_COLUMNS} WHERE secret_sha256 = $1")))
                .bind(crate::store::secrets::digest(secret))
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else { return Ok(crate::store::TokenCheck::Unknown) };
        if row.revoked_at.is_some() {
            return Ok(crate::store::TokenCheck::Revoked);
        }
        // Recorded on the side: the update needs the write lock, which a long import may hold,
        // and a credential must not wait for it (nor fail when the update does).
        let (pool, id, now) = (self.pool.clone(), row.id.clone(), Utc::now());
        tokio::spawn(async move {
            let update = sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2").bind(now).bind(&id);
            if let Err(e) = update.execute(&pool).await {
                tracing::debug!(token.id = %id, error = %e, "last use of a token not recorded");
            }
        });
        let info = TokenInfo::try_from(row)?;
        Ok(crate::store::TokenCheck::Valid(Actor {
            authority_id: info.authority_id,
            credential: format!("token:{}", info.id),
            role: info.role,
        }))
    }

    async fn tokens(&self, authority_id: &str) -> StoreResult<Vec<TokenInfo>> {
        let rows: Vec<TokenRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {TOKEN_COLUMNS} WHERE authority_id = $1 ORDER BY id")))
                .bind(authority_id)
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(TokenInfo::try_from).collect()
    }

    async fn revoke_token(&self, authority_id: &str, token_id: &str) -> StoreResult<Option<TokenInfo>> {
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND authority_id = $3 AND revoked_at IS NULL")
            .bind(Utc::now())
            .bind(token_id)
            .bind(authority_id)
            .execute(&self.pool)
            .await?;
        let row: Option<TokenRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {TOKEN_COLUMNS} WHERE id = $1 AND authority_id = $2")))
                .bind(token_id)
                .bind(authority_id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(TokenInfo::try_from).transpose()
    }
}
