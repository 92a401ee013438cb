//! `GET /v1/demo/users`: the users a local demo (`qun serve --demo`) seeded,
//! with their tokens, so the web app's sign-in page can offer them by name.
//! A server started without `--demo` answers 404 `not_a_demo`.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ErrorBody};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(users))
}

/// A demo user and the token to act as them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DemoUser {
    /// Handle.
    pub name: String,
    /// The name shown to people.
    pub display_name: String,
    /// Their API token (a fixed demo token: this is a local demo only).
    pub token: String,
    /// What they can do in the demo: `admin`, `developer`, `owner`, `member`.
    pub roles: Vec<String>,
}

/// The demo's users and tokens (only on a server started with `--demo`).
#[utoipa::path(get, path = "/v1/demo/users", tag = "users", security(()),
    responses((status = 200, body = Vec<DemoUser>), (status = 404, body = ErrorBody),
        (status = 429, body = ErrorBody, description = "`rate_limited` (with `Retry-After`)")))]
async fn users(State(state): State<AppState>) -> Result<Json<Vec<DemoUser>>, ApiError> {
    if state.config.demo_users.is_empty() {
        return Err(ApiError::not_found(
            "not_a_demo",
            "this server is not a demo (`qun serve --demo`); sign in with your API token",
        ));
    }
    Ok(Json(state.config.demo_users.clone()))
}
