//! The double-entry ledger: accounts (one wallet per user per currency, the
//! platform's fee account, a provider account money comes from), transactions
//! whose entries sum to zero, and stored balances kept in the same write
//! transaction as the entries. [`Store::ledger_check`] proves both.

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::Row;

use super::{Store, StoreError, WriteTx, new_id, now_ms};

/// The provider that stands in for a real payment provider: a platform
/// admin's top-up.
pub const ADMIN_PROVIDER: &str = "admin";

/// The wallet of `user_id` in `currency`.
pub fn user_account(user_id: &str, currency: &str) -> String {
    format!("user:{user_id}:{currency}")
}

/// The platform's fee account in `currency`.
pub fn platform_account(currency: &str) -> String {
    format!("platform:fee:{currency}")
}

/// The account money from `provider` is drawn from (negative: money that
/// entered the system).
pub fn provider_account(provider: &str, currency: &str) -> String {
    format!("provider:{provider}:{currency}")
}

/// What kind of account an id names.
fn account_kind(id: &str) -> &'static str {
    if id.starts_with("user:") {
        "user"
    } else if id.starts_with("platform:") {
        "platform"
    } else {
        "provider"
    }
}

/// Whether `currency` is an active ISO 4217 currency code (issue 11 item 9).
pub fn valid_currency(currency: &str) -> bool {
    super::iso4217::is_currency(currency)
}

/// One balance of a wallet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Balance {
    /// ISO 4217 code.
    pub currency: String,
    /// Minor units.
    pub balance: i64,
}

/// One line of a transaction: `amount` (signed) on `account`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Account id (see [`user_account`] and friends).
    pub account: String,
    /// Positive credits, negative debits.
    pub amount: i64,
}

/// Why a posting did not happen (nothing was written).
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    /// A debited wallet holds less than the debit.
    #[error("insufficient funds: {available} {currency} available, {needed} needed")]
    InsufficientFunds {
        /// The account.
        account: String,
        /// Currency.
        currency: String,
        /// What it holds.
        available: i64,
        /// What the debit needed.
        needed: i64,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl WriteTx {
    /// Post one transaction: `entries` (summing to zero) in `currency`, and
    /// the balances they change. A user or platform account may not go
    /// negative; provider accounts may. Accounts are created on first use and
    /// updated in id order, so concurrent postings cannot deadlock.
    pub async fn post_transaction(
        &mut self,
        kind: &str,
        reference: &str,
        currency: &str,
        entries: &[Entry],
    ) -> Result<String, PostError> {
        let sum: i128 = entries.iter().map(|e| i128::from(e.amount)).sum();
        if sum != 0 {
            return Err(StoreError::Corrupt(format!(
                "refusing an unbalanced {kind} transaction (sum {sum})"
            ))
            .into());
        }
        let mut net: BTreeMap<&str, i64> = BTreeMap::new();
        for entry in entries {
            *net.entry(entry.account.as_str()).or_default() += entry.amount;
        }
        let now = now_ms();
        for (account, change) in &net {
            self.ensure_account(account, currency, now).await?;
            let kind = account_kind(account);
            let done = if *change < 0 && kind != "provider" {
                sqlx::query(
                    "UPDATE ledger_accounts SET balance = balance + $1 \
                     WHERE id = $2 AND balance + $1 >= 0",
                )
                .bind(change)
                .bind(*account)
                .execute(&mut *self.tx)
                .await
                .map_err(StoreError::from)?
            } else {
                sqlx::query("UPDATE ledger_accounts SET balance = balance + $1 WHERE id = $2")
                    .bind(change)
                    .bind(*account)
                    .execute(&mut *self.tx)
                    .await
                    .map_err(StoreError::from)?
            };
            if done.rows_affected() == 0 {
                let available = self.balance_of(account).await?;
                return Err(PostError::InsufficientFunds {
                    account: account.to_string(),
                    currency: currency.to_string(),
                    available,
                    needed: -change,
                });
            }
        }
        let id = new_id("tx");
        sqlx::query(
            "INSERT INTO ledger_transactions (id, kind, reference, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&id)
        .bind(kind)
        .bind(reference)
        .bind(now)
        .execute(&mut *self.tx)
        .await
        .map_err(StoreError::from)?;
        for entry in entries {
            sqlx::query(
                "INSERT INTO ledger_entries (transaction_id, account_id, currency, amount) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(&id)
            .bind(&entry.account)
            .bind(currency)
            .bind(entry.amount)
            .execute(&mut *self.tx)
            .await
            .map_err(StoreError::from)?;
        }
        Ok(id)
    }

    async fn ensure_account(
        &mut self,
        account: &str,
        currency: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let owner = account
            .strip_prefix("user:")
            .and_then(|rest| rest.rsplit_once(':'))
            .map(|(user, _)| user.to_string());
        sqlx::query(
            "INSERT INTO ledger_accounts (id, kind, owner_id, currency, balance, created_at) \
             VALUES ($1, $2, $3, $4, 0, $5) ON CONFLICT (id) DO NOTHING",
        )
        .bind(account)
        .bind(account_kind(account))
        .bind(owner)
        .bind(currency)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// The stored balance of `account` (0 if it does not exist yet).
    pub async fn balance_of(&mut self, account: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT balance FROM ledger_accounts WHERE id = $1")
            .bind(account)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(match row {
            Some(row) => row.try_get("balance")?,
            None => 0,
        })
    }
}

/// A transaction whose entries do not sum to zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Unbalanced {
    /// Transaction id.
    pub transaction: String,
    /// Currency.
    pub currency: String,
    /// The sum of its entries (should be 0).
    pub sum: i64,
}

/// An account whose stored balance differs from its entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Mismatch {
    /// Account id.
    pub account: String,
    /// The stored balance.
    pub stored: i64,
    /// The sum of its entries.
    pub entries: i64,
}

/// What `qun ledger check` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LedgerReport {
    /// True when nothing below was found.
    pub ok: bool,
    /// Transactions checked.
    pub transactions: i64,
    /// Accounts checked.
    pub accounts: i64,
    /// Transactions that do not sum to zero.
    pub unbalanced: Vec<Unbalanced>,
    /// Balances that differ from their entries.
    pub mismatched: Vec<Mismatch>,
    /// Wallets or fee accounts below zero.
    pub negative: Vec<String>,
    /// Payments whose ledger record disagrees with their status: charged
    /// other than once when settled, charged at all when not, refunds that
    /// do not add up to `refunded`.
    pub payments: Vec<String>,
}

impl LedgerReport {
    /// One line per difference, for people.
    pub fn differences(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for u in &self.unbalanced {
            lines.push(format!(
                "transaction {} does not balance: its {} entries sum to {}",
                u.transaction, u.currency, u.sum
            ));
        }
        for m in &self.mismatched {
            lines.push(format!(
                "account {} stores balance {} but its entries sum to {}",
                m.account, m.stored, m.entries
            ));
        }
        for n in &self.negative {
            lines.push(format!("account {n} is below zero"));
        }
        lines.extend(self.payments.iter().cloned());
        lines
    }
}

impl Store {
    /// Verify the ledger: every transaction sums to zero per currency, every
    /// stored balance equals its entries, no wallet is negative, and every
    /// payment was charged exactly once if settled (never otherwise) with
    /// refunds adding up to what it says was refunded.
    pub async fn ledger_check(&self) -> Result<LedgerReport, StoreError> {
        let pool = self.pool();
        let transactions: i64 = sqlx::query("SELECT COUNT(*) AS n FROM ledger_transactions")
            .fetch_one(pool)
            .await?
            .try_get("n")?;
        let accounts: i64 = sqlx::query("SELECT COUNT(*) AS n FROM ledger_accounts")
            .fetch_one(pool)
            .await?
            .try_get("n")?;
        let mut unbalanced = Vec::new();
        for row in sqlx::query(
            "SELECT transaction_id, currency, CAST(SUM(amount) AS BIGINT) AS total \
             FROM ledger_entries GROUP BY transaction_id, currency \
             HAVING SUM(amount) <> 0 ORDER BY transaction_id",
        )
        .fetch_all(pool)
        .await?
        {
            unbalanced.push(Unbalanced {
                transaction: row.try_get("transaction_id")?,
                currency: row.try_get("currency")?,
                sum: row.try_get("total")?,
            });
        }
        // An entry in another currency than its account is as wrong as an
        // unbalanced one.
        for row in sqlx::query(
            "SELECT e.transaction_id, e.currency, CAST(SUM(e.amount) AS BIGINT) AS total \
             FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id \
             WHERE a.currency <> e.currency GROUP BY e.transaction_id, e.currency",
        )
        .fetch_all(pool)
        .await?
        {
            unbalanced.push(Unbalanced {
                transaction: row.try_get("transaction_id")?,
                currency: row.try_get("currency")?,
                sum: row.try_get("total")?,
            });
        }
        let mut mismatched = Vec::new();
        for row in sqlx::query(
            "SELECT a.id, a.balance, CAST(COALESCE(SUM(e.amount), 0) AS BIGINT) AS total \
             FROM ledger_accounts a LEFT JOIN ledger_entries e ON e.account_id = a.id \
             GROUP BY a.id, a.balance HAVING a.balance <> COALESCE(SUM(e.amount), 0) ORDER BY a.id",
        )
        .fetch_all(pool)
        .await?
        {
            mismatched.push(Mismatch {
                account: row.try_get("id")?,
                stored: row.try_get("balance")?,
                entries: row.try_get("total")?,
            });
        }
        let mut negative = Vec::new();
        for row in sqlx::query(
            "SELECT id FROM ledger_accounts WHERE kind <> 'provider' AND balance < 0 ORDER BY id",
        )
        .fetch_all(pool)
        .await?
        {
            negative.push(row.try_get("id")?);
        }
        let mut payments = Vec::new();
        for row in sqlx::query(
            "SELECT p.id, p.status, p.amount, p.refunded, \
             (SELECT COUNT(*) FROM ledger_transactions t WHERE t.kind = 'payment' AND t.reference = p.id) AS charged, \
             (SELECT CAST(COALESCE(SUM(r.amount), 0) AS BIGINT) FROM payment_refunds r WHERE r.payment_id = p.id) AS refunds \
             FROM payments p ORDER BY p.id",
        )
        .fetch_all(pool)
        .await?
        {
            let id: String = row.try_get("id")?;
            let status: String = row.try_get("status")?;
            let amount: i64 = row.try_get("amount")?;
            let refunded: i64 = row.try_get("refunded")?;
            let charged: i64 = row.try_get("charged")?;
            let refunds: i64 = row.try_get("refunds")?;
            let expected = i64::from(status == "settled");
            if charged != expected {
                payments.push(format!(
                    "payment {id} is {status} but was charged {charged} times"
                ));
            }
            if refunds != refunded || refunded > amount {
                payments.push(format!(
                    "payment {id} of {amount} says {refunded} refunded; its refunds add up to {refunds}"
                ));
            }
        }
        let ok = unbalanced.is_empty()
            && mismatched.is_empty()
            && negative.is_empty()
            && payments.is_empty();
        Ok(LedgerReport {
            ok,
            transactions,
            accounts,
            unbalanced,
            mismatched,
            negative,
            payments,
        })
    }

    /// The balances of `user_id`'s wallets, by currency.
    pub async fn wallet(&self, user_id: &str) -> Result<Vec<Balance>, StoreError> {
        let rows = sqlx::query(
            "SELECT currency, balance FROM ledger_accounts WHERE kind = 'user' AND owner_id = $1 \
             ORDER BY currency",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Balance {
                    currency: row.try_get("currency")?,
                    balance: row.try_get("balance")?,
                })
            })
            .collect()
    }

    /// The stored balance of one account (0 if it does not exist).
    pub async fn account_balance(&self, account: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT balance FROM ledger_accounts WHERE id = $1")
            .bind(account)
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(row) => row.try_get("balance")?,
            None => 0,
        })
    }

    /// Sum of every non-provider balance in `currency`: the money inside the
    /// system (equals what providers put in).
    pub async fn money_in_system(&self, currency: &str) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(balance), 0) AS BIGINT) AS total FROM ledger_accounts \
             WHERE kind <> 'provider' AND currency = $1",
        )
        .bind(currency)
        .fetch_one(self.pool())
        .await?;
        Ok(row.try_get("total")?)
    }

    /// Put `amount` from `provider` into `user_id`'s wallet (a top-up).
    /// Returns the new balance.
    pub async fn credit_wallet(
        &self,
        provider: &str,
        user_id: &str,
        amount: i64,
        currency: &str,
        note: &str,
    ) -> Result<i64, StoreError> {
        let wallet = user_account(user_id, currency);
        let entries = [
            Entry {
                account: provider_account(provider, currency),
                amount: -amount,
            },
            Entry {
                account: wallet.clone(),
                amount,
            },
        ];
        let (entries, wallet) = (&entries, wallet.as_str());
        retry(|| async move {
            let mut tx = self.begin_durable().await?;
            match tx.post_transaction("credit", note, currency, entries).await {
                Ok(_) => {}
                Err(PostError::Store(e)) => return Err(e),
                Err(e @ PostError::InsufficientFunds { .. }) => {
                    return Err(StoreError::Corrupt(e.to_string()));
                }
            }
            let balance = tx.balance_of(wallet).await?;
            tx.commit().await?;
            Ok(balance)
        })
        .await
    }
}

/// Whether a database error is worth retrying the whole transaction for
/// (PostgreSQL serialization failure or deadlock).
pub fn retryable(e: &StoreError) -> bool {
    match e {
        StoreError::Database(sqlx::Error::Database(db)) => {
            matches!(db.code().as_deref(), Some("40001") | Some("40P01"))
        }
        _ => false,
    }
}

/// How many times a money-moving transaction is tried.
pub const ATTEMPTS: u32 = 8;

/// Run `body` (a whole transaction) up to [`ATTEMPTS`] times while it fails
/// with a retryable database error.
pub async fn retry<T, F, Fut>(mut body: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let mut attempt = 1;
    loop {
        match body().await {
            Err(e) if retryable(&e) && attempt < ATTEMPTS => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(5 * u64::from(attempt))).await;
            }
            other => return other,
        }
    }
}

/// Where top-ups come from. Only the admin credit exists; a real payment
/// provider would be another implementation with its own provider account.
pub trait PaymentProvider {
    /// The provider's name (its account is `provider:<name>:<CUR>`).
    fn name(&self) -> &'static str;

    /// Put `amount` into `user_id`'s wallet; returns the new balance.
    fn credit(
        &self,
        store: &Store,
        user_id: &str,
        amount: i64,
        currency: &str,
        note: &str,
    ) -> impl std::future::Future<Output = Result<i64, StoreError>> + Send;
}

/// A platform admin's top-up.
#[derive(Debug, Clone, Copy, Default)]
pub struct AdminCredit;

impl PaymentProvider for AdminCredit {
    fn name(&self) -> &'static str {
        ADMIN_PROVIDER
    }

    async fn credit(
        &self,
        store: &Store,
        user_id: &str,
        amount: i64,
        currency: &str,
        note: &str,
    ) -> Result<i64, StoreError> {
        store
            .credit_wallet(self.name(), user_id, amount, currency, note)
            .await
    }
}
