//! `/v1/apps` (developers register apps and upload versions) and `/v1/catalog`.
//!
//! An upload is validated and described by the runtime before anything is
//! stored. The name the component reports from `describe` must equal the
//! app's slug, so one app's URL can never serve another app's code. A new
//! version is `pending` until a platform admin reviews it (`admin.rs`).

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::Auth;
use super::error::{ApiError, ErrorBody, is_duplicate};
use super::views::{AppView, VersionView, manifest_names};
use super::{ApiJson, AppState};
use crate::capabilities::Capability;
use crate::store::{App, AppVersion, User, VersionStatus, now_ms};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_app, list_apps))
        .routes(routes!(get_app))
        .routes(routes!(upload_version))
        .routes(routes!(catalog))
}

/// An app to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApp {
    /// Unique short name used in URLs: lowercase letters, digits and `-`, at most 40,
    /// starting with a letter or digit.
    /// It must equal the name the component reports from `describe`.
    #[schema(pattern = "^[a-z0-9][a-z0-9-]{0,39}$")]
    pub slug: String,
    /// Display name: free text (1 to 100 characters on one line, not only spaces).
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\u0000-\\u0020\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$"
    )]
    pub name: String,
    /// What it does (at most 2000 characters).
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: String,
}

/// A capability and what it lets an app do.
#[derive(Debug, Serialize, ToSchema)]
pub struct CapabilityView {
    /// The capability's name (as used in grants).
    pub name: String,
    /// What it allows, in plain words.
    pub description: String,
}

/// An installable app: its newest approved version.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogEntry {
    /// Slug.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Who made it: the developer's display name.
    pub developer: String,
    /// The newest approved version.
    pub version: String,
    /// Capabilities it asks for.
    pub capabilities: Vec<CapabilityView>,
    /// Commands it answers.
    pub commands: Vec<String>,
    /// Actions it answers.
    pub actions: Vec<String>,
}

/// A `.wasm` component: the raw bytes of the body.
pub struct WasmBody;

impl utoipa::PartialSchema for WasmBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .content_media_type("application/wasm")
            .into()
    }
}

impl ToSchema for WasmBody {}

/// The longest app description, in characters.
const MAX_DESCRIPTION_CHARS: usize = 2000;

fn check_slug(slug: &str) -> Result<(), ApiError> {
    let ok = !slug.is_empty()
        && slug.len() <= 40
        && slug.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad(
            "invalid_slug",
            format!("a slug is 1 to 40 lowercase letters, digits and `-`; got {slug:?}"),
        ))
    }
}

async fn app_or_404(state: &AppState, slug: &str) -> Result<App, ApiError> {
    state
        .store()
        .app(slug)
        .await?
        .ok_or_else(|| ApiError::not_found("app_not_found", format!("no app {slug}")))
}

/// Whether `user` manages `app`: its developer or a platform admin.
pub(super) fn manages(user: &User, app: &App) -> bool {
    user.is_admin || app.developer_id == user.id
}

/// The app `slug` for a route only its developer (and platform admins) may
/// use: 404 when it does not exist or the caller cannot even see it, 403 when
/// they can see it in the catalog but do not manage it.
pub(super) async fn managed_app(
    state: &AppState,
    user: &User,
    slug: &str,
    what: &str,
) -> Result<App, ApiError> {
    let app = app_or_404(state, slug).await?;
    if manages(user, &app) {
        return Ok(app);
    }
    if listed(state, &app).await? {
        Err(ApiError::forbidden(format!(
            "only the developer of {slug} and platform admins may {what}"
        )))
    } else {
        Err(no_app(slug))
    }
}

pub(super) fn no_app(slug: &str) -> ApiError {
    ApiError::not_found("app_not_found", format!("no app {slug}"))
}

/// Whether everybody may see the app: not suspended, with an approved version.
pub(super) async fn listed(state: &AppState, app: &App) -> Result<bool, ApiError> {
    if app.suspended_at.is_some() {
        return Ok(false);
    }
    Ok(state
        .store()
        .versions(&app.slug)
        .await?
        .iter()
        .any(|v| v.status == VersionStatus::Approved))
}

/// Register an app (developers and platform admins).
#[utoipa::path(post, path = "/v1/apps", tag = "apps", request_body = NewApp,
    responses((status = 201, body = AppView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_app(
    State(state): State<AppState>,
    Auth(user): Auth,
    ApiJson(body): ApiJson<NewApp>,
) -> Result<(StatusCode, Json<AppView>), ApiError> {
    if !user.is_developer && !user.is_admin {
        return Err(ApiError::forbidden("only developers may register apps"));
    }
    check_slug(&body.slug)?;
    let name = super::users::check_name("name", &body.name)?;
    let chars = body.description.chars().count();
    if chars > MAX_DESCRIPTION_CHARS {
        return Err(ApiError::bad(
            "invalid_description",
            format!("a description is at most {MAX_DESCRIPTION_CHARS} characters; got {chars}"),
        ));
    }
    let taken = || ApiError::conflict("slug_taken", format!("an app {} already exists", body.slug));
    if state.store().app(&body.slug).await?.is_some() {
        return Err(taken());
    }
    let app = match state
        .store()
        .create_app(&body.slug, name, &body.description, &user.id)
        .await
    {
        Ok(app) => app,
        Err(e) if is_duplicate(&e) => return Err(taken()),
        Err(e) => return Err(e.into()),
    };
    Ok((StatusCode::CREATED, Json(AppView::new(app, Vec::new()))))
}

/// The caller's apps (a platform admin sees every app), with every version's
/// review status.
#[utoipa::path(get, path = "/v1/apps", tag = "apps",
    responses((status = 200, body = Vec<AppView>), (status = 401, body = ErrorBody)))]
async fn list_apps(
    State(state): State<AppState>,
    Auth(user): Auth,
) -> Result<Json<Vec<AppView>>, ApiError> {
    let owner = (!user.is_admin).then_some(user.id.as_str());
    let mut out = Vec::new();
    for app in state.store().apps(owner).await? {
        let versions = state.store().versions(&app.slug).await?;
        out.push(AppView::new(app, versions));
    }
    Ok(Json(out))
}

/// An app and its versions. Its developer and platform admins see every
/// version with its review status and reason; everybody else sees a listed
/// app (approved, not suspended) with its approved versions only.
#[utoipa::path(get, path = "/v1/apps/{slug}", tag = "apps", params(("slug" = String, Path, description = "App slug")),
    responses((status = 200, body = AppView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_app(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(slug): Path<String>,
) -> Result<Json<AppView>, ApiError> {
    let app = app_or_404(&state, &slug).await?;
    let mut versions = state.store().versions(&slug).await?;
    if !manages(&user, &app) {
        if !listed(&state, &app).await? {
            return Err(no_app(&slug));
        }
        versions.retain(|v| v.status == VersionStatus::Approved);
    }
    Ok(Json(AppView::new(app, versions)))
}

/// Read at most `max` bytes of `body`; 413 beyond.
async fn read_capped(headers: &HeaderMap, body: Body, max: usize) -> Result<Vec<u8>, ApiError> {
    let too_large = || {
        ApiError::TooLarge(format!(
            "the upload is larger than the limit of {max} bytes"
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max as u64) {
        return Err(too_large());
    }
    match axum::body::to_bytes(body, max).await {
        Ok(bytes) => Ok(bytes.to_vec()),
        Err(e) => {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            while let Some(err) = source {
                if err.is::<http_body_util::LengthLimitError>() {
                    return Err(too_large());
                }
                source = err.source();
            }
            Err(ApiError::bad(
                "bad_body",
                format!("could not read the upload: {e}"),
            ))
        }
    }
}

/// Upload a version: the raw `.wasm` component as the body. It is compiled
/// and described outside the request: when that is done within a few seconds
/// the answer is `201` with the version (`pending` until a platform admin
/// approves it); otherwise `202` with an upload to follow at its `Location`.
#[utoipa::path(post, path = "/v1/apps/{slug}/versions", tag = "apps",
    params(("slug" = String, Path, description = "App slug")),
    request_body(content = WasmBody, content_type = "application/wasm", description = "The component (`wasm32-wasip2` build)"),
    responses((status = 201, body = VersionView), (status = 202, description = "still compiling: follow the upload at `Location`", body = super::uploads::UploadView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "this version was already uploaded", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, description = "not a valid Qun app (`invalid_wasm`), or a manifest over a limit (`manifest_limit`), with the reason", body = ErrorBody),
        (status = 503, description = "`compile_queue_full`: the host is compiling as many uploads as it holds", body = ErrorBody)))]
async fn upload_version(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<axum::response::Response, ApiError> {
    managed_app(&state, &user, &slug, "upload its versions").await?;
    let bytes = read_capped(&headers, body, state.config.max_wasm_bytes).await?;
    super::uploads::accept(&state, &user.id, &slug, bytes).await
}

/// Compile, check, describe and store `bytes` as a version of `slug` (the
/// body of an upload, run outside its request).
pub(super) async fn store_version(
    state: &AppState,
    slug: &str,
    bytes: &[u8],
) -> Result<AppVersion, ApiError> {
    // Nothing is cached (compiled code, loaded app) until the upload is stored.
    let prepared = state.runtime.prepare(bytes).await?;
    let loaded = prepared.app.clone();
    let manifest = &loaded.manifest;
    if manifest.name != slug {
        return Err(ApiError::InvalidWasm(format!(
            "the component describes itself as `{}`, but is being uploaded to the app `{slug}`; upload it to /v1/apps/{}/versions",
            manifest.name, manifest.name
        )));
    }
    let exists = || {
        ApiError::conflict(
            "version_exists",
            format!(
                "{slug} {} was already uploaded; bump the version",
                manifest.version
            ),
        )
    };
    if state
        .store()
        .version(slug, &manifest.version)
        .await?
        .is_some()
    {
        return Err(exists());
    }
    let version = AppVersion {
        app_slug: slug.to_string(),
        version: manifest.version.clone(),
        sha256: loaded.sha256.clone(),
        capabilities: loaded
            .capabilities
            .iter()
            .map(|c| c.name().to_string())
            .collect(),
        manifest: serde_json::to_value(manifest).map_err(|e| ApiError::Internal(e.to_string()))?,
        status: VersionStatus::Pending,
        created_at: now_ms(),
        review_reason: None,
        reviewed_by: None,
        reviewed_at: None,
    };
    match state.store().add_version(&version, bytes).await {
        Ok(()) => {}
        Err(e) if is_duplicate(&e) => return Err(exists()),
        Err(e) => return Err(e.into()),
    }
    state.runtime.keep(prepared).await;
    tracing::info!(app = %slug, version = %version.version, sha256 = %version.sha256, "version uploaded");
    // Developer mode (issue 16): the developer's test groups run it at once.
    super::installations::follow_upload(state, &version).await;
    Ok(version)
}

/// Apps that can be installed, each at its newest approved version.
#[utoipa::path(get, path = "/v1/catalog", tag = "apps",
    responses((status = 200, body = Vec<CatalogEntry>), (status = 401, body = ErrorBody)))]
async fn catalog(
    State(state): State<AppState>,
    Auth(_user): Auth,
) -> Result<Json<Vec<CatalogEntry>>, ApiError> {
    let store = state.store();
    let listed = store.catalog().await?;
    let mut developers = std::collections::HashMap::new();
    for (app, _) in &listed {
        if !developers.contains_key(&app.developer_id) {
            let name = store
                .user(&app.developer_id)
                .await?
                .map(|u| u.display_name.unwrap_or(u.name))
                .unwrap_or_default();
            developers.insert(app.developer_id.clone(), name);
        }
    }
    let entries = listed
        .into_iter()
        .map(|(app, version)| CatalogEntry {
            developer: developers
                .get(&app.developer_id)
                .cloned()
                .unwrap_or_default(),
            slug: app.slug,
            name: app.name,
            description: app.description,
            commands: manifest_names(&version.manifest, "commands"),
            actions: manifest_names(&version.manifest, "actions"),
            capabilities: version
                .capabilities
                .iter()
                .map(|name| CapabilityView {
                    name: name.clone(),
                    description: Capability::parse(name)
                        .map(|c| c.describe().to_string())
                        .unwrap_or_default(),
                })
                .collect(),
            version: version.version,
        })
        .collect();
    Ok(Json(entries))
}
