//! Payment requests, the payer's decision, expiry and refunds. Money moves
//! only through [`WriteTx::post_transaction`] in the same write transaction
//! that changes a payment's status, under a per-payment lock, so a payment is
//! charged at most once whatever runs concurrently or crashes.

use serde::Serialize;
use sqlx::Row;

use super::ledger::{Entry, PostError, platform_account, retryable, user_account};
use super::{AuditRecord, EventBody, PaymentView, Store, StoreError, WriteTx, now_ms};
use crate::limits::PaymentConfig;

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PaymentState {
    /// Waiting for the payer.
    Pending,
    /// Paid.
    Settled,
    /// The payer declined.
    Declined,
    /// Nobody answered in time.
    Expired,
}

impl PaymentState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentState::Pending => "pending",
            PaymentState::Settled => "settled",
            PaymentState::Declined => "declined",
            PaymentState::Expired => "expired",
        }
    }

    /// The state named `name`.
    pub fn parse(name: &str) -> Option<PaymentState> {
        [
            PaymentState::Pending,
            PaymentState::Settled,
            PaymentState::Declined,
            PaymentState::Expired,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// A payment request as stored (and as the API shows it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PaymentRecord {
    /// The payment's id.
    pub id: String,
    /// The installation that asked.
    pub installation_id: String,
    /// Its group.
    pub group_id: String,
    /// The app that asked.
    pub app: String,
    /// Who is asked to pay.
    pub payer: String,
    /// Minor units.
    pub amount: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// Shown to the payer.
    pub memo: String,
    /// The app's idempotency key.
    #[serde(skip)]
    pub idempotency_key: String,
    /// Where it stands.
    pub status: PaymentState,
    /// Refunded so far, in minor units.
    pub refunded: i64,
    /// Who received the payment (the group owner when it settled).
    pub owner: Option<String>,
    /// The app developer who received a share.
    pub developer: Option<String>,
    /// The platform's fee taken when it settled.
    pub fee: i64,
    /// The developer's share taken when it settled.
    pub share: i64,
    /// When it was requested (ms).
    pub created_at: i64,
    /// When it expires if still pending (ms).
    pub expires_at: i64,
    /// When the payer decided or it expired (ms).
    pub decided_at: Option<i64>,
}

/// Why a payment operation did not happen (nothing was changed, except an
/// overdue payment being marked expired).
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// No such payment visible to the caller.
    #[error("no such payment")]
    NotFound,
    /// The payment was already decided.
    #[error("the payment is already {}", .0.as_str())]
    NotPending(PaymentState),
    /// The payment expired before the payer answered (it is now marked expired).
    #[error("the payment expired before it was confirmed")]
    Expired(Box<PaymentRecord>),
    /// Only settled payments can be refunded.
    #[error("only settled payments can be refunded; this one is {}", .0.as_str())]
    NotSettled(PaymentState),
    /// A wallet holds less than the amount to move.
    #[error("insufficient funds: {available} {currency} available, {needed} needed")]
    InsufficientFunds {
        /// Whose wallet ran short: `payer`, `owner`, `developer`.
        who: &'static str,
        /// Currency.
        currency: String,
        /// Held.
        available: i64,
        /// Needed.
        needed: i64,
    },
    /// The refund would exceed what is left of the payment.
    #[error("only {refundable} of this payment can still be refunded")]
    RefundTooLarge {
        /// What can still be refunded.
        refundable: i64,
    },
    /// An amount of zero or less.
    #[error("the amount must be positive")]
    BadAmount,
    /// An idempotency key reused for a different request.
    #[error("{0}")]
    KeyReused(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the payer decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Pay.
    Confirm,
    /// Do not pay.
    Decline,
}

impl Decision {
    fn name(self) -> &'static str {
        match self {
            Decision::Confirm => "confirm",
            Decision::Decline => "decline",
        }
    }
}

/// The result of a confirm/decline: the response to send, and the payment
/// when this call decided it (a replay decides nothing).
#[derive(Debug, Clone)]
pub struct Decided {
    /// HTTP status of the answer.
    pub status: u16,
    /// JSON body of the answer.
    pub body: String,
    /// The payment this call settled or declined.
    pub decided: Option<PaymentRecord>,
}

/// (fee, developer share, owner's part) of `amount`: fee and share rounded
/// down, the owner gets the rest, so the parts always add up to `amount`.
pub fn split(amount: i64, config: &PaymentConfig) -> (i64, i64, i64) {
    let part = |bps: u32| (i128::from(amount) * i128::from(bps) / 10_000) as i64;
    let fee = part(config.platform_fee_bps.min(10_000));
    let share = part(
        config
            .developer_share_bps
            .min(10_000 - config.platform_fee_bps.min(10_000)),
    );
    (fee, share, amount - fee - share)
}

/// How much of `total` (a fee or share of a payment of `amount`) goes back
/// when refunds grow from `before` to `after`: cumulative rounding, so a full
/// refund returns exactly `total`.
fn reversed(total: i64, amount: i64, before: i64, after: i64) -> i64 {
    let at = |refunded: i64| (i128::from(total) * i128::from(refunded) / i128::from(amount)) as i64;
    at(after) - at(before)
}

const COLUMNS: &str = "id, installation_id, group_id, app_slug, payer_id, amount, currency, memo, \
     idempotency_key, status, refunded, owner_id, developer_id, fee, share, created_at, expires_at, \
     decided_at";

fn from_row(row: &sqlx::any::AnyRow) -> Result<PaymentRecord, StoreError> {
    let status: String = row.try_get("status")?;
    Ok(PaymentRecord {
        id: row.try_get("id")?,
        installation_id: row.try_get("installation_id")?,
        group_id: row.try_get("group_id")?,
        app: row.try_get("app_slug")?,
        payer: row.try_get("payer_id")?,
        amount: row.try_get("amount")?,
        currency: row.try_get("currency")?,
        memo: row.try_get("memo")?,
        idempotency_key: row.try_get("idempotency_key")?,
        status: PaymentState::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("payment status {status:?}")))?,
        refunded: row.try_get("refunded")?,
        owner: row.try_get("owner_id")?,
        developer: row.try_get("developer_id")?,
        fee: row.try_get("fee")?,
        share: row.try_get("share")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        decided_at: row.try_get("decided_at")?,
    })
}

fn insufficient(who: &'static str, e: PostError) -> PaymentError {
    match e {
        PostError::Store(e) => PaymentError::Store(e),
        PostError::InsufficientFunds {
            currency,
            available,
            needed,
            ..
        } => PaymentError::InsufficientFunds {
            who,
            currency,
            available,
            needed,
        },
    }
}

/// Run a whole payment transaction, again while PostgreSQL reports a
/// serialization failure or deadlock (bounded).
async fn retry<T, F, Fut>(mut body: F) -> Result<T, PaymentError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, PaymentError>>,
{
    let mut attempt = 1;
    loop {
        match body().await {
            Err(PaymentError::Store(e)) if retryable(&e) && attempt < super::ledger::ATTEMPTS => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(5 * u64::from(attempt))).await;
            }
            other => return other,
        }
    }
}

impl WriteTx {
    /// Serialise everything that touches payment `id`.
    pub async fn lock_payment(&mut self, id: &str) -> Result<(), StoreError> {
        self.lock(&format!("payment:{id}")).await
    }

    /// A payment by id, read inside this transaction.
    pub async fn payment(&mut self, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM payments WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The payment an installation requested under `key`.
    pub async fn payment_by_key(
        &mut self,
        installation_id: &str,
        key: &str,
    ) -> Result<Option<PaymentRecord>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM payments WHERE installation_id = $1 AND idempotency_key = $2"
        )))
        .bind(installation_id)
        .bind(key)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Whether `user_id` is a member of `group_id`, read inside this transaction.
    pub async fn is_member(&mut self, group_id: &str, user_id: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 AS one FROM members WHERE group_id = $1 AND user_id = $2")
            .bind(group_id)
            .bind(user_id)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.is_some())
    }

    /// Store a new pending payment request.
    pub async fn insert_payment(&mut self, p: &PaymentRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO payments (id, installation_id, group_id, app_slug, payer_id, amount, currency, \
             memo, idempotency_key, status, refunded, fee, share, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', 0, 0, 0, $10, $11)",
        )
        .bind(&p.id)
        .bind(&p.installation_id)
        .bind(&p.group_id)
        .bind(&p.app)
        .bind(&p.payer)
        .bind(p.amount)
        .bind(&p.currency)
        .bind(&p.memo)
        .bind(&p.idempotency_key)
        .bind(p.created_at)
        .bind(p.expires_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn set_final_status(
        &mut self,
        id: &str,
        status: PaymentState,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE payments SET status = $1, decided_at = $2 WHERE id = $3 AND status = 'pending'",
        )
        .bind(status.as_str())
        .bind(now)
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Move the money of pending payment `p`: the payer pays, the group owner,
    /// the platform and the app's developer receive their parts.
    async fn settle(
        &mut self,
        p: &PaymentRecord,
        config: &PaymentConfig,
        now: i64,
    ) -> Result<PaymentRecord, PaymentError> {
        let owner: String = sqlx::query("SELECT owner_id FROM groups WHERE id = $1")
            .bind(&p.group_id)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(StoreError::from)?
            .ok_or(PaymentError::NotFound)?
            .try_get("owner_id")
            .map_err(StoreError::from)?;
        let developer: String = sqlx::query("SELECT developer_id FROM apps WHERE slug = $1")
            .bind(&p.app)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(StoreError::from)?
            .ok_or(PaymentError::NotFound)?
            .try_get("developer_id")
            .map_err(StoreError::from)?;
        let (fee, share, rest) = split(p.amount, config);
        let mut entries = vec![
            Entry {
                account: user_account(&p.payer, &p.currency),
                amount: -p.amount,
            },
            Entry {
                account: user_account(&owner, &p.currency),
                amount: rest,
            },
        ];
        if fee > 0 {
            entries.push(Entry {
                account: platform_account(&p.currency),
                amount: fee,
            });
        }
        if share > 0 {
            entries.push(Entry {
                account: user_account(&developer, &p.currency),
                amount: share,
            });
        }
        self.post_transaction("payment", &p.id, &p.currency, &entries)
            .await
            .map_err(|e| insufficient("payer", e))?;
        sqlx::query(
            "UPDATE payments SET status = 'settled', decided_at = $1, owner_id = $2, developer_id = $3, \
             fee = $4, share = $5 WHERE id = $6 AND status = 'pending'",
        )
        .bind(now)
        .bind(&owner)
        .bind(&developer)
        .bind(fee)
        .bind(share)
        .bind(&p.id)
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from)?;
        Ok(PaymentRecord {
            status: PaymentState::Settled,
            decided_at: Some(now),
            owner: Some(owner),
            developer: Some(developer),
            fee,
            share,
            ..p.clone()
        })
    }

    /// Refund `amount` of settled payment `payment_id` under `key`. The same
    /// key with the same amount answers the payment as it stands (and
    /// `false`: nothing new happened); with another amount it is refused.
    /// The caller must hold the payment's lock ([`WriteTx::lock_payment`]).
    pub async fn refund_payment(
        &mut self,
        payment_id: &str,
        amount: i64,
        key: &str,
        requested_by: &str,
    ) -> Result<(PaymentRecord, bool), PaymentError> {
        let p = self
            .payment(payment_id)
            .await?
            .ok_or(PaymentError::NotFound)?;
        let earlier = sqlx::query(
            "SELECT amount FROM payment_refunds WHERE payment_id = $1 AND idempotency_key = $2",
        )
        .bind(payment_id)
        .bind(key)
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(StoreError::from)?;
        if let Some(row) = earlier {
            let earlier: i64 = row.try_get("amount").map_err(StoreError::from)?;
            if earlier == amount {
                return Ok((p, false));
            }
            return Err(PaymentError::KeyReused(format!(
                "refund key {key:?} was already used for a refund of {earlier}"
            )));
        }
        if p.status != PaymentState::Settled {
            return Err(PaymentError::NotSettled(p.status));
        }
        if amount <= 0 {
            return Err(PaymentError::BadAmount);
        }
        let refundable = p.amount - p.refunded;
        if amount > refundable {
            return Err(PaymentError::RefundTooLarge { refundable });
        }
        let after = p.refunded + amount;
        let fee = reversed(p.fee, p.amount, p.refunded, after);
        let share = reversed(p.share, p.amount, p.refunded, after);
        let owner = p.owner.clone().unwrap_or_default();
        let developer = p.developer.clone().unwrap_or_default();
        let mut entries = vec![
            Entry {
                account: user_account(&p.payer, &p.currency),
                amount,
            },
            Entry {
                account: user_account(&owner, &p.currency),
                amount: -(amount - fee - share),
            },
        ];
        if fee > 0 {
            entries.push(Entry {
                account: platform_account(&p.currency),
                amount: -fee,
            });
        }
        if share > 0 {
            entries.push(Entry {
                account: user_account(&developer, &p.currency),
                amount: -share,
            });
        }
        let transaction = self
            .post_transaction("refund", &p.id, &p.currency, &entries)
            .await
            .map_err(|e| insufficient("owner", e))?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO payment_refunds (id, payment_id, idempotency_key, amount, requested_by, \
             transaction_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(super::new_id("rf"))
        .bind(&p.id)
        .bind(key)
        .bind(amount)
        .bind(requested_by)
        .bind(&transaction)
        .bind(now)
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from)?;
        sqlx::query("UPDATE payments SET refunded = refunded + $1 WHERE id = $2")
            .bind(amount)
            .bind(&p.id)
            .execute(&mut *self.tx)
            .await
            .map_err(StoreError::from)?;
        Ok((
            PaymentRecord {
                refunded: after,
                ..p
            },
            true,
        ))
    }
}

impl Store {
    /// A payment by id.
    pub async fn payment(&self, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM payments WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The payment an installation requested under `key`.
    pub async fn payment_by_key(
        &self,
        installation_id: &str,
        key: &str,
    ) -> Result<Option<PaymentRecord>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM payments WHERE installation_id = $1 AND idempotency_key = $2"
        )))
        .bind(installation_id)
        .bind(key)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The amount refunded under `key` for payment `payment_id`, if any.
    pub async fn refund_by_key(
        &self,
        payment_id: &str,
        key: &str,
    ) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query(
            "SELECT amount FROM payment_refunds WHERE payment_id = $1 AND idempotency_key = $2",
        )
        .bind(payment_id)
        .bind(key)
        .fetch_optional(self.pool())
        .await?;
        row.map(|row| row.try_get("amount").map_err(StoreError::from))
            .transpose()
    }

    /// Payments `payer` was asked for, newest first, optionally in one state.
    pub async fn payments_of_payer(
        &self,
        payer: &str,
        status: Option<PaymentState>,
        limit: u32,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        let rows = match status {
            Some(status) => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM payments WHERE payer_id = $1 AND status = $2 \
                     ORDER BY created_at DESC, id LIMIT CAST($3 AS BIGINT)"
                )))
                .bind(payer)
                .bind(status.as_str())
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?
            }
            None => {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM payments WHERE payer_id = $1 \
                     ORDER BY created_at DESC, id LIMIT CAST($2 AS BIGINT)"
                )))
                .bind(payer)
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?
            }
        };
        rows.iter().map(from_row).collect()
    }

    /// Payments requested in a group, newest first, optionally in one state.
    pub async fn payments_of_group(
        &self,
        group_id: &str,
        status: Option<PaymentState>,
        limit: u32,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM payments WHERE group_id = $1 AND ($2 = '' OR status = $2) \
             ORDER BY created_at DESC, id LIMIT CAST($3 AS BIGINT)"
        )))
        .bind(group_id)
        .bind(status.map_or("", PaymentState::as_str))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// The payer `user_id` confirms or declines payment `id`. With an
    /// idempotency `key`, a repeat of the same request answers the first
    /// successful result unchanged; the key used for another request is
    /// refused. Failures are not remembered, so a retry after a top-up can
    /// succeed.
    pub async fn decide_payment(
        &self,
        id: &str,
        user_id: &str,
        decision: Decision,
        config: &PaymentConfig,
        key: Option<&str>,
    ) -> Result<Decided, PaymentError> {
        let request = format!("{}:{id}", decision.name());
        let request = request.as_str();
        retry(|| async move {
            let mut tx = self.begin_durable().await?;
            if let Some(key) = key {
                tx.lock(&format!("idempotency:{user_id}:{key}")).await?;
                let row = sqlx::query(
                    "SELECT request, status, body FROM payment_idempotency WHERE user_id = $1 AND key = $2",
                )
                .bind(user_id)
                .bind(key)
                .fetch_optional(&mut *tx.tx)
                .await
                .map_err(StoreError::from)?;
                if let Some(row) = row {
                    let earlier: String = row.try_get("request").map_err(StoreError::from)?;
                    if earlier != request {
                        return Err(PaymentError::KeyReused(format!(
                            "Idempotency-Key {key:?} was already used for another request ({earlier})"
                        )));
                    }
                    let status: i64 = row.try_get("status").map_err(StoreError::from)?;
                    return Ok(Decided {
                        status: u16::try_from(status).unwrap_or(200),
                        body: row.try_get("body").map_err(StoreError::from)?,
                        decided: None,
                    });
                }
            }
            tx.lock_payment(id).await?;
            let p = match tx.payment(id).await? {
                Some(p) if p.payer == user_id => p,
                _ => return Err(PaymentError::NotFound),
            };
            if p.status != PaymentState::Pending {
                return Err(PaymentError::NotPending(p.status));
            }
            let now = now_ms();
            if p.expires_at <= now {
                tx.set_final_status(id, PaymentState::Expired, now).await?;
                let expired = PaymentRecord {
                    status: PaymentState::Expired,
                    decided_at: Some(now),
                    ..p
                };
                tx.payment_outcome_event(&expired, Some("expired")).await?;
                tx.commit().await?;
                return Err(PaymentError::Expired(Box::new(expired)));
            }
            let decided = match decision {
                Decision::Confirm => {
                    let settled = tx.settle(&p, config, now).await?;
                    tx.payment_outcome_event(&settled, None).await?;
                    settled
                }
                Decision::Decline => {
                    tx.set_final_status(id, PaymentState::Declined, now).await?;
                    let declined = PaymentRecord {
                        status: PaymentState::Declined,
                        decided_at: Some(now),
                        ..p
                    };
                    tx.payment_outcome_event(&declined, Some("declined"))
                        .await?;
                    declined
                }
            };
            let action = match decision {
                Decision::Confirm => "payment.confirm",
                Decision::Decline => "payment.decline",
            };
            tx.insert_audit(&[payment_decision(action, user_id, &decided, decided.amount)])
                .await?;
            let body = serde_json::to_string(&decided)
                .map_err(|e| StoreError::Corrupt(format!("payment as JSON: {e}")))?;
            if let Some(key) = key {
                sqlx::query(
                    "INSERT INTO payment_idempotency (user_id, key, request, status, body, created_at) \
                     VALUES ($1, $2, $3, 200, $4, $5)",
                )
                .bind(user_id)
                .bind(key)
                .bind(request)
                .bind(&body)
                .bind(now)
                .execute(&mut *tx.tx)
                .await
                .map_err(StoreError::from)?;
            }
            tx.commit().await?;
            Ok(Decided {
                status: 200,
                body,
                decided: Some(decided),
            })
        })
        .await
    }

    /// Refund part or all of a settled payment (the group owner through the
    /// API). Returns the payment as it stands and whether this call refunded.
    pub async fn refund_payment(
        &self,
        payment_id: &str,
        amount: i64,
        key: &str,
        requested_by: &str,
    ) -> Result<(PaymentRecord, bool), PaymentError> {
        retry(|| async move {
            let mut tx = self.begin_durable().await?;
            tx.lock_payment(payment_id).await?;
            let result = tx
                .refund_payment(payment_id, amount, key, requested_by)
                .await?;
            if result.1 {
                let record = payment_decision("payment.refund", requested_by, &result.0, amount);
                tx.insert_audit(&[record]).await?;
            }
            tx.commit().await?;
            Ok(result)
        })
        .await
    }

    /// Mark pending payments overdue at `now` as expired (at most `limit`);
    /// returns them.
    pub async fn expire_payments(
        &self,
        now: i64,
        limit: u32,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM payments WHERE status = 'pending' AND expires_at <= $1 \
             ORDER BY expires_at LIMIT CAST($2 AS BIGINT)",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        let mut expired = Vec::new();
        for row in rows {
            let id: String = row.try_get("id")?;
            let id = id.as_str();
            let done = retry(|| async move {
                let mut tx = self.begin_write().await?;
                tx.lock_payment(id).await?;
                let Some(p) = tx.payment(id).await? else {
                    return Ok(None);
                };
                if p.status != PaymentState::Pending || p.expires_at > now {
                    return Ok(None);
                }
                let at = now_ms();
                tx.set_final_status(id, PaymentState::Expired, at).await?;
                let p = PaymentRecord {
                    status: PaymentState::Expired,
                    decided_at: Some(at),
                    ..p
                };
                tx.payment_outcome_event(&p, Some("expired")).await?;
                tx.commit().await?;
                Ok(Some(p))
            })
            .await;
            match done {
                Ok(Some(p)) => expired.push(p),
                Ok(None) => {}
                Err(PaymentError::Store(e)) => return Err(e),
                Err(e) => return Err(StoreError::Corrupt(e.to_string())),
            }
        }
        Ok(expired)
    }
}

impl PaymentRecord {
    /// The payment as outcome events carry it.
    pub fn view(&self) -> PaymentView {
        PaymentView {
            id: self.id.clone(),
            payer: self.payer.clone(),
            amount: u64::try_from(self.amount).unwrap_or(0),
            currency: self.currency.clone(),
            memo: self.memo.clone(),
            status: self.status.as_str().to_string(),
            refunded: u64::try_from(self.refunded).unwrap_or(0),
            created_at: self.created_at,
        }
    }
}

impl WriteTx {
    /// Queue the app's `payment-settled` (`reason` none) or `payment-failed`
    /// event in this transaction, durable with the change that decided the
    /// payment. An app uninstalled meanwhile hears nothing (the money record
    /// stays).
    pub async fn payment_outcome_event(
        &mut self,
        payment: &PaymentRecord,
        reason: Option<&str>,
    ) -> Result<(), StoreError> {
        let installed = sqlx::query("SELECT 1 AS one FROM installations WHERE id = $1")
            .bind(&payment.installation_id)
            .fetch_optional(&mut *self.tx)
            .await?
            .is_some();
        if !installed {
            return Ok(());
        }
        let body = match reason {
            None => EventBody::PaymentSettled {
                payment: payment.view(),
            },
            Some(reason) => EventBody::PaymentFailed {
                payment: payment.view(),
                reason: reason.to_string(),
            },
        };
        self.enqueue_event(&payment.installation_id, &body).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_never_creates_or_loses_a_minor_unit() {
        let config = PaymentConfig {
            platform_fee_bps: 333,
            developer_share_bps: 1_001,
            ..PaymentConfig::default()
        };
        for amount in 1..5_000 {
            let (fee, share, rest) = split(amount, &config);
            assert_eq!(fee + share + rest, amount);
            assert!(fee >= 0 && share >= 0 && rest >= 0);
            assert_eq!(fee, amount * 333 / 10_000, "fee rounds down");
        }
        assert_eq!(split(1, &config), (0, 0, 1), "the owner gets the odd unit");
        assert_eq!(split(10_000, &config), (333, 1_001, 8_666));
    }

    #[test]
    fn refunds_reverse_exactly_what_was_taken() {
        let (amount, fee) = (1_001, 29);
        let mut refunded = 0;
        let mut back = 0;
        for step in [1, 333, 7, 660] {
            back += reversed(fee, amount, refunded, refunded + step);
            refunded += step;
            assert!(back <= fee);
        }
        assert_eq!(refunded, amount);
        assert_eq!(back, fee, "a full refund in parts returns the whole fee");
    }
}

/// The audit row of a person's decision about a payment (last in its
/// transaction: it takes the audit chain's lock).
fn payment_decision(action: &str, by: &str, p: &PaymentRecord, amount: i64) -> AuditRecord {
    AuditRecord::decision(action, by)
        .app(&p.app, None)
        .installation(&p.installation_id, &p.group_id)
        .detail(format!("{} {amount} {} ({})", p.id, p.currency, p.memo))
}
