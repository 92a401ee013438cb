//! `/v1/groups/{gid}/files`: members upload files (to attach to a message or
//! give to an app in a form), download the files they may see, and group
//! managers see how the group's file quota is used (issue 17).
//!
//! Downloads follow the group's messages: a file is served to its uploader
//! and to the members who see a live message showing it; everyone else,
//! inside the group or not, gets 404. Bytes are served with the type read
//! from them, as an attachment unless they are a PNG, JPEG, GIF or WebP
//! image, with `nosniff` and a CSP that lets nothing run.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::auth::Auth;
use super::error::{ApiError, ErrorBody};
use crate::blobs::is_inline_safe;
use crate::store::{FileRow, now_ms};

pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_file))
        .routes(routes!(file_usage))
        .routes(routes!(get_file, delete_file))
        .routes(routes!(file_content))
}

/// A file of a group.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileView {
    /// The file's id.
    pub id: String,
    /// Its group.
    pub group_id: String,
    /// Its name.
    pub name: String,
    /// Its type, read from its bytes (never the uploader's word).
    pub content_type: String,
    /// Its size in bytes.
    pub size: i64,
    /// The SHA-256 of its bytes, lowercase hex.
    pub sha256: String,
    /// The member who uploaded it; null for a file an app created.
    pub uploaded_by: Option<String>,
    /// The installation of the app that created it.
    pub installation_id: Option<String>,
    /// When (ms since the epoch).
    pub created_at: i64,
    /// Where its bytes are (`GET`, with your token; range requests work).
    pub url: String,
    /// A browser may show it in the page (a PNG, JPEG, GIF or WebP image);
    /// anything else is served as an attachment.
    pub inline: bool,
}

impl FileView {
    /// The view of a stored file.
    pub fn of(row: &FileRow) -> FileView {
        FileView {
            id: row.id.clone(),
            group_id: row.group_id.clone(),
            name: row.name.clone(),
            content_type: row.content_type.clone(),
            size: row.size,
            sha256: row.sha256.clone(),
            uploaded_by: row.uploaded_by.clone(),
            installation_id: row.created_by.clone(),
            created_at: row.created_at,
            url: content_url(&row.group_id, &row.id),
            inline: is_inline_safe(&row.content_type),
        }
    }
}

/// Where the bytes of file `id` of group `gid` are served.
pub fn content_url(gid: &str, id: &str) -> String {
    format!("/v1/groups/{gid}/files/{id}/content")
}

/// The upload's name.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name as members will see it (1 to 255 characters, not
    /// only white space, no `/`, `\` or control characters).
    #[param(
        min_length = 1,
        max_length = 255,
        pattern = r"^[^/\\\u0000-\u001F\u007F-\u009F]*[^/\\\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^/\\\u0000-\u001F\u007F-\u009F]*$"
    )]
    name: String,
}

/// How a group's file quota is used.
#[derive(Debug, Serialize, ToSchema)]
pub struct FileUsageView {
    /// Bytes of all the group's files.
    pub used_bytes: i64,
    /// The group's quota, in bytes.
    pub quota_bytes: i64,
    /// The group's files.
    pub file_count: i64,
    /// Members' uploads no app holds (attached to messages, or chosen and not sent yet).
    pub members: UsageLine,
    /// What each installed app holds, against its own quota.
    pub apps: Vec<AppUsage>,
}

/// Bytes and files.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageLine {
    /// Bytes.
    pub bytes: i64,
    /// Files.
    pub files: i64,
}

/// What one installed app holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppUsage {
    /// The installation.
    pub installation_id: String,
    /// The app's slug.
    pub app: String,
    /// The app's title.
    pub title: String,
    /// Bytes of the files it holds.
    pub bytes: i64,
    /// Files it holds.
    pub files: i64,
    /// Its quota in this group, in bytes.
    pub quota_bytes: i64,
}

/// `invalid_name` unless `name` is a file name members can be shown.
fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    let bad = |why: &str| ApiError::bad("invalid_name", format!("the file name {why}"));
    if name.is_empty() {
        return Err(bad("is empty"));
    }
    if name.chars().count() > 255 {
        return Err(bad("is over 255 characters"));
    }
    if name.contains(['/', '\\']) {
        return Err(bad("holds `/` or `\\`"));
    }
    crate::text::check("the file name", name).map_err(|m| ApiError::bad("invalid_name", m))?;
    if name.chars().any(char::is_control) {
        return Err(bad("holds a control character"));
    }
    Ok(name.to_string())
}

fn file_too_large(max: u64) -> ApiError {
    ApiError::Limited {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: "file_too_large",
        message: format!("a file may have at most {max} bytes"),
        retry_after: None,
    }
}

fn group_quota(max: i64) -> ApiError {
    ApiError::Limited {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: "group_file_quota",
        message: format!(
            "this group's files would pass its quota of {max} bytes; delete some files first"
        ),
        retry_after: None,
    }
}

/// Upload a file to a group: the raw bytes as the body (any content type;
/// the host reads the type from the bytes). It is yours until you attach it
/// to a message (`files` of `POST /v1/groups/{gid}/messages`) or give it to
/// an app in a form's file input; one that is never used is removed after a
/// day.
#[utoipa::path(post, path = "/v1/groups/{gid}/files", tag = "files",
    params(("gid" = String, Path, description = "Group id"), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The file's bytes"),
    responses((status = 201, body = FileView),
        (status = 400, description = "`invalid_name`", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, description = "no such group among yours", body = ErrorBody),
        (status = 413, description = "`file_too_large` (over the per-file limit) or `group_file_quota` (the group's files would pass its quota)", body = ErrorBody),
        (status = 429, body = ErrorBody)))]
async fn upload_file(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(gid): Path<String>,
    query: Result<Query<UploadQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match upload(state, user, gid, query, headers, body).await {
        Ok(created) => created.into_response(),
        // Refused before the whole body was read: the connection closes, so
        // a client does not send its next request after the unread bytes.
        Err(e) => {
            let mut response = e.into_response();
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

async fn upload(
    state: AppState,
    user: crate::store::User,
    gid: String,
    query: Result<Query<UploadQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<FileView>), ApiError> {
    state.member_of(&gid, &user).await?;
    let Query(query) = query.map_err(|e| ApiError::bad("bad_query", e.body_text()))?;
    let name = check_name(&query.name)?;
    state.posting(&gid, &user.id)?;
    let limits = state.runtime.limits();
    let max = limits.file_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max) {
        return Err(file_too_large(max));
    }
    let store = state.store();
    let used = store.group_file_bytes(&gid).await?;
    if declared.is_some_and(|len| used.saturating_add(len as i64) > limits.group_file_bytes) {
        return Err(group_quota(limits.group_file_bytes));
    }
    // Stream the body to the staging area, hashing it on the way.
    let blobs = store.blobs().clone();
    let mut staged = blobs.stage();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                staged.abort(&blobs).await;
                return Err(ApiError::bad(
                    "bad_body",
                    format!("could not read the upload: {e}"),
                ));
            }
        };
        if staged.size() + chunk.len() as u64 > max {
            staged.abort(&blobs).await;
            return Err(file_too_large(max));
        }
        if let Err(e) = staged.write(&chunk).await {
            staged.abort(&blobs).await;
            return Err(ApiError::Internal(format!("staging an upload: {e}")));
        }
    }
    let blob = staged
        .finish()
        .await
        .map_err(|e| ApiError::Internal(format!("finishing an upload: {e}")))?;
    let row = FileRow {
        id: uuid::Uuid::new_v4().to_string(),
        group_id: gid.clone(),
        name,
        content_type: blob.content_type.clone(),
        size: i64::try_from(blob.size).unwrap_or(i64::MAX),
        sha256: blob.sha256.clone(),
        uploaded_by: Some(user.id.clone()),
        created_by: None,
        created_at: now_ms(),
    };
    let stored = async {
        let mut tx = store.begin_write().await?;
        tx.lock(&format!("files:{gid}")).await?;
        if tx.group_file_bytes(&gid).await?.saturating_add(row.size) > limits.group_file_bytes {
            return Ok(false);
        }
        tx.claim_blob(&row.sha256, row.size).await?;
        blobs.place(&blob).await?;
        tx.insert_file(&row).await?;
        tx.commit().await?;
        Ok::<bool, crate::store::StoreError>(true)
    }
    .await;
    blobs.discard(&blob.path).await;
    if !stored? {
        return Err(group_quota(limits.group_file_bytes));
    }
    Ok((StatusCode::CREATED, Json(FileView::of(&row))))
}

/// A file you may see (you uploaded it, or you see a message showing it).
async fn visible_file(
    state: &AppState,
    gid: &str,
    fid: &str,
    user_id: &str,
) -> Result<FileRow, ApiError> {
    let not_found = || {
        ApiError::not_found(
            "file_not_found",
            format!("no file {fid} you can see in this group"),
        )
    };
    if fid.len() > 64 || !state.store().file_visible_to(gid, fid, user_id).await? {
        return Err(not_found());
    }
    state.store().file(fid).await?.ok_or_else(not_found)
}

/// A file's metadata.
#[utoipa::path(get, path = "/v1/groups/{gid}/files/{file}", tag = "files",
    params(("gid" = String, Path, description = "Group id"), ("file" = String, Path, description = "File id")),
    responses((status = 200, body = FileView), (status = 401, body = ErrorBody),
        (status = 404, description = "no such group among yours, or no such file you can see", body = ErrorBody)))]
async fn get_file(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path((gid, fid)): Path<(String, String)>,
) -> Result<Json<FileView>, ApiError> {
    state.member_of(&gid, &user).await?;
    let row = visible_file(&state, &gid, &fid, &user.id).await?;
    Ok(Json(FileView::of(&row)))
}

/// Delete a file: its uploader, or the group's owner and admins (anyone
/// else in the group who sees it: 403; who does not: 404). Messages showing
/// it then show it as deleted, and an app that held it no longer does; its
/// bytes go once no other file has the same ones.
#[utoipa::path(delete, path = "/v1/groups/{gid}/files/{file}", tag = "files",
    params(("gid" = String, Path, description = "Group id"), ("file" = String, Path, description = "File id")),
    responses((status = 204, description = "deleted"), (status = 401, body = ErrorBody),
        (status = 403, description = "you see it, but neither uploaded it nor manage the group", body = ErrorBody),
        (status = 404, description = "no such group among yours, or no such file you can see", body = ErrorBody)))]
async fn delete_file(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path((gid, fid)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let member = state.member_of(&gid, &user).await?;
    let store = state.store();
    let not_found = || {
        ApiError::not_found(
            "file_not_found",
            format!("no file {fid} you can see in this group"),
        )
    };
    let row = match store.file(&fid).await? {
        Some(row) if row.group_id == gid => row,
        _ => return Err(not_found()),
    };
    let manager = matches!(
        member.role,
        crate::store::Role::Owner | crate::store::Role::Admin
    );
    if !manager && row.uploaded_by.as_deref() != Some(user.id.as_str()) {
        return Err(if store.file_visible_to(&gid, &fid, &user.id).await? {
            ApiError::forbidden(
                "only its uploader or the group's owner and admins may delete a file",
            )
        } else {
            not_found()
        });
    }
    let mut tx = store.begin_write().await?;
    if tx.file_in_group(&gid, &fid).await?.is_some() {
        tx.delete_file(&fid, &row.sha256).await?;
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A single byte range from a `Range` header, or `None` to send it whole
/// (no header, several ranges, or a unit we do not serve). `Err` when the
/// range cannot be satisfied.
fn byte_range(headers: &HeaderMap, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(value) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((start, end)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (start, end) = (start.trim(), end.trim());
    let range = match (start.parse::<u64>(), end.parse::<u64>()) {
        (Ok(s), Ok(e)) if s <= e => (s, e.min(size.saturating_sub(1))),
        (Ok(s), Err(_)) if end.is_empty() => (s, size.saturating_sub(1)),
        (Err(_), Ok(n)) if start.is_empty() && n > 0 => {
            (size.saturating_sub(n), size.saturating_sub(1))
        }
        _ => return Ok(None),
    };
    if size == 0 || range.0 >= size {
        return Err(());
    }
    Ok(Some(range))
}

/// `attachment; filename="..."; filename*=UTF-8''...` (RFC 6266), or
/// `inline` with the same names.
fn disposition(kind: &str, name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(b) {
            encoded.push(*b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// A file's bytes. Served as an attachment (never rendered) unless it is a
/// PNG, JPEG, GIF or WebP image; `Range: bytes=a-b` gets 206 with that part.
#[utoipa::path(get, path = "/v1/groups/{gid}/files/{file}/content", tag = "files",
    params(("gid" = String, Path, description = "Group id"), ("file" = String, Path, description = "File id")),
    responses((status = 200, description = "the bytes: `application/octet-stream`, or the image type of a PNG, JPEG, GIF or WebP image", content(
            (Vec<u8> = "application/octet-stream"), (Vec<u8> = "image/png"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/gif"), (Vec<u8> = "image/webp"))),
        (status = 206, description = "the range asked for", content(
            (Vec<u8> = "application/octet-stream"), (Vec<u8> = "image/png"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/gif"), (Vec<u8> = "image/webp"))),
        (status = 401, body = ErrorBody),
        (status = 404, description = "no such group among yours, or no such file you can see", body = ErrorBody),
        (status = 416, description = "the range is past the end of the file", body = ErrorBody)))]
async fn file_content(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path((gid, fid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    state.member_of(&gid, &user).await?;
    let row = visible_file(&state, &gid, &fid, &user.id).await?;
    let size = u64::try_from(row.size).unwrap_or_default();
    let range = byte_range(&headers, size).map_err(|()| ApiError::Limited {
        status: StatusCode::RANGE_NOT_SATISFIABLE,
        code: "range_not_satisfiable",
        message: format!("the file has {size} bytes"),
        retry_after: None,
    })?;
    let stream = state
        .store()
        .blobs()
        .read(&row.sha256, range.map(|(s, e)| s..e + 1))
        .await
        .map_err(|e| ApiError::Internal(format!("reading file {fid}: {e}")))?;
    let inline = is_inline_safe(&row.content_type);
    let mut response = Body::from_stream(stream).into_response();
    *response.status_mut() = if range.is_some() {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let h = response.headers_mut();
    let content_type = if inline {
        row.content_type.as_str()
    } else {
        "application/octet-stream"
    };
    let mut set = |name: header::HeaderName, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    };
    set(header::CONTENT_TYPE, content_type.to_string());
    set(
        header::CONTENT_DISPOSITION,
        disposition(if inline { "inline" } else { "attachment" }, &row.name),
    );
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff".into());
    set(
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; sandbox".into(),
    );
    set(header::CACHE_CONTROL, "private, max-age=3600".into());
    set(header::ETAG, format!("\"{}\"", row.sha256));
    set(header::ACCEPT_RANGES, "bytes".into());
    match range {
        Some((start, end)) => {
            set(header::CONTENT_LENGTH, (end - start + 1).to_string());
            set(header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}"));
        }
        None => set(header::CONTENT_LENGTH, size.to_string()),
    }
    Ok(response)
}

/// How the group's file quota is used, in all and per installed app
/// (owners and admins).
#[utoipa::path(get, path = "/v1/groups/{gid}/files/usage", tag = "files",
    params(("gid" = String, Path, description = "Group id")),
    responses((status = 200, body = FileUsageView), (status = 401, body = ErrorBody),
        (status = 403, description = "not an owner or admin of the group", body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn file_usage(
    State(state): State<AppState>,
    Auth(user): Auth,
    Path(gid): Path<String>,
) -> Result<Json<FileUsageView>, ApiError> {
    state.manager_of(&gid, &user).await?;
    let store = state.store();
    let limits = state.runtime.limits();
    let usage = store.file_usage(&gid).await?;
    let mut apps = Vec::new();
    for installation in store.installations_in(&gid).await? {
        let (bytes, files) = usage
            .installations
            .iter()
            .find(|(id, _, _)| *id == installation.id)
            .map(|(_, b, f)| (*b, *f))
            .unwrap_or((0, 0));
        let title = store
            .app(&installation.app_slug)
            .await?
            .map(|a| a.name)
            .unwrap_or_else(|| installation.app_slug.clone());
        apps.push(AppUsage {
            installation_id: installation.id.clone(),
            app: installation.app_slug.clone(),
            title,
            bytes,
            files,
            quota_bytes: limits.installation_file_bytes,
        });
    }
    Ok(Json(FileUsageView {
        used_bytes: usage.bytes,
        quota_bytes: limits.group_file_bytes,
        file_count: usage.files,
        members: UsageLine {
            bytes: usage.members.0,
            files: usage.members.1,
        },
        apps,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(value: &str, size: u64) -> Result<Option<(u64, u64)>, ()> {
        let mut headers = HeaderMap::new();
        headers.insert(header::RANGE, HeaderValue::from_str(value).expect("header"));
        byte_range(&headers, size)
    }

    #[test]
    fn ranges() {
        assert_eq!(range("bytes=0-9", 100), Ok(Some((0, 9))));
        assert_eq!(range("bytes=90-", 100), Ok(Some((90, 99))));
        assert_eq!(range("bytes=-10", 100), Ok(Some((90, 99))));
        assert_eq!(range("bytes=50-500", 100), Ok(Some((50, 99))));
        assert_eq!(range("bytes=100-", 100), Err(()));
        assert_eq!(range("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(range("items=0-1", 100), Ok(None));
    }

    #[test]
    fn names_are_quoted_safely() {
        let d = disposition("attachment", "报告 \"final\".pdf");
        assert!(
            d.starts_with("attachment; filename=\"__ _final_.pdf\""),
            "{d}"
        );
        assert!(
            d.contains("filename*=UTF-8''%E6%8A%A5%E5%91%8A%20%22final%22.pdf"),
            "{d}"
        );
    }
}
