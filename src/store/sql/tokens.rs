//! API tokens: created with a secret shown once, looked up by the secret's digest, revoked.

use super::*;

#[async_trait::async_trait]
impl Tokens for ThisStore {
    async fn create_token(
        &self,
        authority_id: &str,
        role: Role,
        committee_id: Option<&str>,
        label: Option<&str>,
        created_by: &str,
        idempotency: Option<(&str, &Idempotency)>,
    ) -> StoreResult<(TokenInfo, String)> {
        let secret = crate::store::secrets::generate_secret();
        let id = crate::publish::ids::new_id("tok_");
        let now = Utc::now();
        // Under the write lock, like every write: the key is checked and stored by one writer.
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query_scalar::<_, i32>("SELECT 1 FROM authorities WHERE id = $1")
            .bind(authority_id)
            .fetch_optional(&mut *tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::Refused(Violation::unknown("authority_id", "部门", "authority", authority_id)));
        }
        if let Some(committee) = committee_id {
            let owner = sqlx::query_scalar::<_, String>("SELECT authority_id FROM committees WHERE id = $1")
                .bind(committee)
                .fetch_optional(&mut *tx)
                .await?;
            if owner.as_deref() != Some(authority_id) {
                return Err(StoreError::Refused(Violation::unknown("committee_id", "评委会", "committee", committee)));
            }
        }
        if let Some((owner, idem)) = idempotency {
            let seen: Option<String> =
                sqlx::query_scalar("SELECT request_sha256 FROM idempotency_keys WHERE authority_id = $1 AND key = $2")
                    .bind(owner)
                    .bind(&idem.key)
                    .fetch_optional(&mut *tx)
                    .await?;
            match seen {
                Some(request) if request == idem.request_sha256 => {
                    return Err(StoreError::Refused(Violation::conflict(
                        "token_already_created",
                        "Idempotency-Key",
                        "该请求已创建过凭证；凭证只显示一次，如已丢失请吊销后重新创建",
                        "this request already created a token, whose secret was shown once; revoke it and create another if it was lost",
                    )));
                }
                Some(_) => {
                    return Err(StoreError::Refused(Violation::conflict(
                        "idempotency_key_reused",
                        "Idempotency-Key",
                        "该 Idempotency-Key 已用于另一个请求",
                        "this Idempotency-Key was already used with a different request",
                    )));
                }
                None => {
                    sqlx::query(
                        "INSERT INTO idempotency_keys (authority_id, key, request_sha256, status, response, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(owner)
                    .bind(&idem.key)
                    .bind(&idem.request_sha256)
                    .bind(201_i32)
                    .bind(serde_json::json!({ "token_id": id }).to_string())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        sqlx::query("INSERT INTO api_tokens (id, authority_id, role, secret_sha256, label, created_at, created_by, committee_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
            .bind(&id)
            .bind(authority_id)
            .bind(role.code())
            .bind(crate::store::secrets::digest(&secret))
            .bind(label)
            .bind(now)
            .bind(created_by)
            .bind(committee_id)
            .execute(&mut *tx)
            .await?;
        let row: TokenRow = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {TOKEN_COLUMNS} WHERE id = $1")))
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
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
            committee_id: info.committee_id,
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
