//! `GET /v1/admin/apps/{slug}/versions/{version}/review`: what a reviewer
//! needs to decide on a version: its size and sha256, its whole interface as
//! WIT, and what changed against the previous approved version.

use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::admin::require_admin;
use super::auth::Auth;
use super::error::{ApiError, ErrorBody};
use super::views::{VersionView, manifest_names};
use crate::runtime::interface::{Interface, interface};
use crate::store::{AppVersion, VersionStatus};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(review))
}

/// A version as its reviewer sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewDetail {
    /// The app's slug.
    pub app: String,
    /// The version under review.
    pub version: VersionView,
    /// Size of the component, in bytes.
    pub size_bytes: u64,
    /// The component's world and the packages it uses, as WIT.
    pub wit: String,
    /// Imported interfaces and functions.
    pub imports: Vec<String>,
    /// Exported interfaces and functions.
    pub exports: Vec<String>,
    /// The newest approved version uploaded before this one (`null`: none).
    pub previous: Option<VersionView>,
    /// What changed against `previous` (everything is added when there is none).
    pub diff: ReviewDiff,
}

/// Names added and removed between the previous approved version and this one.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ReviewDiff {
    pub capabilities_added: Vec<String>,
    pub capabilities_removed: Vec<String>,
    pub imports_added: Vec<String>,
    pub imports_removed: Vec<String>,
    pub exports_added: Vec<String>,
    pub exports_removed: Vec<String>,
    pub commands_added: Vec<String>,
    pub commands_removed: Vec<String>,
    pub actions_added: Vec<String>,
    pub actions_removed: Vec<String>,
}

/// A version's size, sha256, interface (WIT) and its capability and
/// interface diff against the previous approved version (platform admins).
#[utoipa::path(get, path = "/v1/admin/apps/{slug}/versions/{version}/review", tag = "admin",
    params(("slug" = String, Path, description = "App slug"), ("version" = String, Path, description = "Version")),
    responses((status = 200, body = ReviewDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn review(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path((slug, version)): Path<(String, String)>,
) -> Result<Json<ReviewDetail>, ApiError> {
    require_admin(&user)?;
    let store = state.store();
    let versions = store.versions(&slug).await?;
    let Some(current) = versions.iter().find(|v| v.version == version) else {
        return Err(ApiError::not_found(
            "version_not_found",
            format!("{slug} has no version {version}"),
        ));
    };
    // Newest first: the first approved one uploaded before this one.
    let previous = versions.iter().find(|v| {
        v.status == VersionStatus::Approved
            && v.version != current.version
            && v.created_at <= current.created_at
    });
    let this = read_interface(&state, &slug, current).await?;
    let before = match previous {
        Some(previous) => Some(read_interface(&state, &slug, previous).await?),
        None => None,
    };
    let diff = ReviewDiff {
        capabilities_added: added(&current.capabilities, previous.map(|p| &p.capabilities[..])),
        capabilities_removed: removed(&current.capabilities, previous.map(|p| &p.capabilities[..])),
        imports_added: added(&this.1.imports, before.as_ref().map(|b| &b.1.imports[..])),
        imports_removed: removed(&this.1.imports, before.as_ref().map(|b| &b.1.imports[..])),
        exports_added: added(&this.1.exports, before.as_ref().map(|b| &b.1.exports[..])),
        exports_removed: removed(&this.1.exports, before.as_ref().map(|b| &b.1.exports[..])),
        commands_added: names_added(current, previous, "commands"),
        commands_removed: names_added_rev(current, previous, "commands"),
        actions_added: names_added(current, previous, "actions"),
        actions_removed: names_added_rev(current, previous, "actions"),
    };
    let (
        size_bytes,
        Interface {
            wit,
            imports,
            exports,
        },
    ) = this;
    Ok(Json(ReviewDetail {
        app: slug,
        version: current.clone().into(),
        size_bytes,
        wit,
        imports,
        exports,
        previous: previous.cloned().map(VersionView::from),
        diff,
    }))
}

/// The size and interface of a stored version.
async fn read_interface(
    state: &AppState,
    slug: &str,
    version: &AppVersion,
) -> Result<(u64, Interface), ApiError> {
    let (wasm, _) = state
        .store()
        .version_wasm(slug, &version.version)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "version_not_found",
                format!("{slug} has no version {}", version.version),
            )
        })?;
    let size = wasm.len() as u64;
    // Decoding a large component takes a while: off the async workers.
    let read = tokio::task::spawn_blocking(move || interface(&wasm))
        .await
        .map_err(|e| ApiError::Internal(format!("reading the interface: {e}")))?;
    let read = read.map_err(|e| ApiError::Unprocessable {
        code: "unreadable_interface",
        message: format!(
            "the interface of {slug} {} cannot be read: {e}",
            version.version
        ),
    })?;
    Ok((size, read))
}

fn added(now: &[String], before: Option<&[String]>) -> Vec<String> {
    now.iter()
        .filter(|n| !before.is_some_and(|b| b.contains(n)))
        .cloned()
        .collect()
}

fn removed(now: &[String], before: Option<&[String]>) -> Vec<String> {
    before
        .unwrap_or_default()
        .iter()
        .filter(|b| !now.contains(b))
        .cloned()
        .collect()
}

fn names_added(now: &AppVersion, before: Option<&AppVersion>, key: &str) -> Vec<String> {
    let before = before.map(|b| manifest_names(&b.manifest, key));
    added(&manifest_names(&now.manifest, key), before.as_deref())
}

fn names_added_rev(now: &AppVersion, before: Option<&AppVersion>, key: &str) -> Vec<String> {
    let before = before.map(|b| manifest_names(&b.manifest, key));
    removed(&manifest_names(&now.manifest, key), before.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_diff_names_what_was_added_and_removed() {
        let now = s(&["messaging", "payments"]);
        let before = s(&["messaging", "storage"]);
        assert_eq!(added(&now, Some(&before)), s(&["payments"]));
        assert_eq!(removed(&now, Some(&before)), s(&["storage"]));
        assert_eq!(added(&now, None), now);
        assert!(removed(&now, None).is_empty());
    }
}
