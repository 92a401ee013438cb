//! Uploads compile outside the request (issue 15). A 20 MB JavaScript or
//! Python component takes Cranelift seconds to tens of seconds; the request
//! waits a short while (`HttpConfig::upload_wait`) and answers `201` with the
//! version when the compile is done by then, else `202` with an upload the
//! developer follows at `GET /v1/apps/{slug}/uploads/{id}` until it is
//! `done` (the version, `pending` review) or `failed` (the reason, the same
//! code and message the upload would have answered). One sha256 compiles
//! once (the runtime's loading lock), a bounded number of uploads wait for
//! the compiler (past it: 503 `compile_queue_full`), and a shutdown does not
//! wait for a compile.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::apps::managed_app;
use super::auth::Auth;
use super::error::{ApiError, ErrorBody, ErrorDetail};
use super::views::VersionView;
use crate::store::{AppVersion, Upload, UploadStatus, new_id, now_ms};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_upload))
}

/// Uploads waiting for (or in) the compiler on this host.
#[derive(Clone)]
pub struct CompileQueue(Arc<Semaphore>);

impl CompileQueue {
    /// A queue holding at most `size` uploads (their bytes are in memory).
    pub fn new(size: usize) -> Self {
        CompileQueue(Arc::new(Semaphore::new(size.max(1))))
    }

    fn enter(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.0
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::Limited {
                status: StatusCode::SERVICE_UNAVAILABLE,
                code: "compile_queue_full",
                message:
                    "this host is compiling as many uploads as it holds; try again in a minute"
                        .into(),
                retry_after: Some(30),
            })
    }
}

/// An upload and where it is.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadView {
    /// Upload id.
    pub id: String,
    /// The app it was uploaded to.
    pub app: String,
    /// sha256 of the component, hex.
    pub sha256: String,
    /// Bytes uploaded.
    pub size: i64,
    /// `compiling`, `done` (see `version`) or `failed` (see `error`).
    pub status: String,
    /// The version it became (`done`), with its review status.
    pub version: Option<VersionView>,
    /// Why it was refused (`failed`): the code and message the upload
    /// itself would have answered (e.g. `invalid_wasm`, `version_exists`).
    pub error: Option<ErrorDetail>,
    /// When it was uploaded (ms since the epoch).
    pub created_at: i64,
    /// When it was done or refused.
    pub finished_at: Option<i64>,
}

/// Start compiling `bytes` as a version of `slug` and wait up to
/// `upload_wait` for the outcome.
pub(super) async fn accept(
    state: &AppState,
    user_id: &str,
    slug: &str,
    bytes: Vec<u8>,
) -> Result<Response, ApiError> {
    crate::runtime::check_header(&bytes)?;
    let permit = state.compile_queue.enter()?;
    let upload = Upload {
        id: new_id("up"),
        app_slug: slug.to_string(),
        sha256: crate::runtime::sha256_hex(&bytes),
        size: bytes.len() as i64,
        status: UploadStatus::Compiling,
        uploaded_by: user_id.to_string(),
        created_at: now_ms(),
        finished_at: None,
    };
    state.store().add_upload(&upload).await?;
    let (done, outcome) = oneshot::channel();
    let job = state.clone();
    let id = upload.id.clone();
    let app = slug.to_string();
    tokio::spawn(async move {
        let result = super::apps::store_version(&job, &app, &bytes).await;
        drop(bytes);
        let status = match &result {
            Ok(version) => UploadStatus::Done(version.version.clone()),
            Err(e) => UploadStatus::Failed {
                code: e.code().to_string(),
                message: public_message(e),
            },
        };
        if let Err(e) = job.store().finish_upload(&id, &status).await {
            tracing::warn!(upload = %id, "could not record how the upload ended: {e}");
        }
        drop(permit);
        let _ = done.send(result);
    });
    let wait = state.config.upload_wait;
    let answered = if wait.is_zero() {
        None
    } else {
        tokio::select! {
            outcome = tokio::time::timeout(wait, outcome) => outcome.ok(),
            () = state.notifier.closing() => None,
        }
    };
    match answered {
        Some(Ok(Ok(version))) => {
            Ok((StatusCode::CREATED, Json(VersionView::from(version))).into_response())
        }
        Some(Ok(Err(e))) => Err(e),
        Some(Err(_)) => Err(ApiError::Internal(
            "the upload's compile task ended without an answer".into(),
        )),
        None => {
            let location = format!("/v1/apps/{slug}/uploads/{}", upload.id);
            let view = view(state, upload).await?;
            Ok((
                StatusCode::ACCEPTED,
                [(header::LOCATION, location)],
                Json(view),
            )
                .into_response())
        }
    }
}

/// What a refused upload tells its developer: the message it would have
/// answered, except internal detail, which goes to the log only.
fn public_message(e: &ApiError) -> String {
    match e {
        ApiError::Internal(_) => "the host failed while storing the upload; try again".into(),
        e => e.to_string(),
    }
}

async fn view(state: &AppState, upload: Upload) -> Result<UploadView, ApiError> {
    let (status, version, error) = match upload.status {
        UploadStatus::Compiling => ("compiling", None, None),
        UploadStatus::Done(v) => {
            let version: Option<AppVersion> = state.store().version(&upload.app_slug, &v).await?;
            ("done", version.map(VersionView::from), None)
        }
        UploadStatus::Failed { code, message } => {
            ("failed", None, Some(ErrorDetail { code, message }))
        }
    };
    Ok(UploadView {
        id: upload.id,
        app: upload.app_slug,
        sha256: upload.sha256,
        size: upload.size,
        status: status.to_string(),
        version,
        error,
        created_at: upload.created_at,
        finished_at: upload.finished_at,
    })
}

/// Where an upload is: `compiling`, then `done` with the version (pending
/// review) or `failed` with the reason. The app's developer and platform
/// admins only.
#[utoipa::path(get, path = "/v1/apps/{slug}/uploads/{id}", tag = "apps",
    params(("slug" = String, Path, description = "App slug"), ("id" = String, Path, description = "Upload id (from the `202` answer of an upload)")),
    responses((status = 200, body = UploadView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, description = "no such app or upload", body = ErrorBody)))]
async fn get_upload(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Json<UploadView>, ApiError> {
    managed_app(&state, &user, &slug, "follow its uploads").await?;
    let upload = state.store().upload(&slug, &id).await?.ok_or_else(|| {
        ApiError::not_found("upload_not_found", format!("{slug} has no upload {id}"))
    })?;
    Ok(Json(view(&state, upload).await?))
}
