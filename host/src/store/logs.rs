//! The app's own log lines, stdout/stderr and failures, for its developer.

use sqlx::Row;

use super::{Store, StoreError, WriteTx};

/// The incident id of a failed invocation: what the member is shown in
/// place of the failure's text, and the `incident` field of the failure's
/// log line, where the developer finds that text.
pub fn incident_id(invocation_id: &str) -> String {
    let hex: String = invocation_id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(16)
        .collect();
    format!("inc_{hex}")
}

/// One log line.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LogLine {
    /// When (ms).
    pub at: i64,
    /// The installation it came from.
    pub installation_id: Option<String>,
    /// The app.
    pub app_slug: String,
    /// The app version.
    pub app_version: String,
    /// trace/debug/info/warn/error, or stdout/stderr, or failure.
    pub level: String,
    /// The line.
    pub message: String,
    /// Structured fields.
    pub fields: Vec<(String, String)>,
}

impl WriteTx {
    /// Append log lines: one multi-row `INSERT` per 100 lines (a failing
    /// app's 100 lines were 100 statements on the shared writer).
    pub async fn insert_logs(&mut self, lines: &[LogLine]) -> Result<(), StoreError> {
        const COLUMNS: usize = 7;
        for chunk in lines.chunks(100) {
            let mut sql = String::from(
                "INSERT INTO app_logs (at, installation_id, app_slug, app_version, level, message, fields) VALUES ",
            );
            for i in 0..chunk.len() {
                let n = i * COLUMNS;
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4,
                    n + 5,
                    n + 6,
                    n + 7
                ));
            }
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for line in chunk {
                query = query
                    .bind(line.at)
                    .bind(line.installation_id.clone())
                    .bind(line.app_slug.clone())
                    .bind(line.app_version.clone())
                    .bind(line.level.clone())
                    .bind(line.message.clone())
                    .bind(
                        serde_json::to_string(&line.fields)
                            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    );
            }
            query.execute(&mut *self.tx).await?;
        }
        Ok(())
    }
}

/// A stored log line with its position.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LogRow {
    /// Position (newer lines have larger ids).
    pub id: i64,
    /// The line.
    #[serde(flatten)]
    pub line: LogLine,
}

impl Store {
    /// Log lines of an app, newest first.
    pub async fn logs_of(&self, app_slug: &str, limit: u32) -> Result<Vec<LogLine>, StoreError> {
        Ok(self
            .app_logs(app_slug, None, None, limit)
            .await?
            .into_iter()
            .map(|row| row.line)
            .collect())
    }

    /// Log lines of an app (of one version, older than the id `before`),
    /// newest first.
    pub async fn app_logs(
        &self,
        app_slug: &str,
        version: Option<&str>,
        before: Option<i64>,
        limit: u32,
    ) -> Result<Vec<LogRow>, StoreError> {
        let version_filter = if version.is_some() {
            "AND app_version = $4"
        } else {
            ""
        };
        let mut query = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT id, at, installation_id, app_slug, app_version, level, message, fields FROM app_logs \
             WHERE app_slug = $1 AND id < $2 {version_filter} ORDER BY id DESC LIMIT CAST($3 AS BIGINT)"
        )))
        .bind(app_slug)
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::from(limit));
        if let Some(version) = version {
            query = query.bind(version.to_string());
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                let fields: String = row.try_get("fields")?;
                Ok(LogRow {
                    id: row.try_get("id")?,
                    line: LogLine {
                        at: row.try_get("at")?,
                        installation_id: row.try_get("installation_id")?,
                        app_slug: row.try_get("app_slug")?,
                        app_version: row.try_get("app_version")?,
                        level: row.try_get("level")?,
                        message: row.try_get("message")?,
                        fields: serde_json::from_str(&fields)
                            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    },
                })
            })
            .collect()
    }
}
