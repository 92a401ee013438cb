//! The web app (`web/`, built to `web/dist`): served by `qun serve` itself on
//! the API's origin. Release builds embed the assets; debug builds read
//! `web/dist` at run time, and `--web-dir` points at any other build.
//!
//! Every path that is not the API's (`/v1/...`, `/healthz`, `/metrics`,
//! `/openapi.json`) and has no file answers `index.html`, so the app's own
//! routes (`/groups/...`) survive a reload. Responses carry a strict content
//! security policy: scripts and styles from this origin only, no frames.

use std::borrow::Cow;
use std::path::Path;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;

#[derive(rust_embed::Embed)]
#[folder = "$CARGO_MANIFEST_DIR/../web/dist"]
#[allow_missing = true]
struct Assets;

/// The policy of every page of the web app: nothing inline, nothing from
/// elsewhere, never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; \
    object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The fallback of the router: a web app asset, `index.html`, or the API's 404.
pub(super) async fn fallback(State(state): State<AppState>, request: Request) -> Response {
    let path = request.uri().path();
    let api = path.starts_with("/v1/") || path == "/v1";
    if api || !(request.method() == Method::GET || request.method() == Method::HEAD) {
        return ApiError::not_found("no_route", "no such route; see /openapi.json").into_response();
    }
    let file = path.trim_start_matches('/');
    let found = match asset(state.config.web_dir.as_deref(), file) {
        Some(found) => Some((file, found)),
        // Any other path is one of the app's own routes (`/groups/...`,
        // `/admin/reviews/polls/1.0.0`): the app itself answers it. Files
        // live under `assets/` or at the top (`favicon.ico`).
        None if !(file.starts_with("assets/") || (!file.contains('/') && file.contains('.'))) => {
            asset(state.config.web_dir.as_deref(), "index.html").map(|f| ("index.html", f))
        }
        None => None,
    };
    let Some((name, bytes)) = found else {
        if asset(state.config.web_dir.as_deref(), "index.html").is_none() {
            return ApiError::not_found(
                "web_app_not_built",
                "the web app is not built into this server: run `npm ci && npm run build` in web/ (scripts/demo.sh does)",
            )
            .into_response();
        }
        return ApiError::not_found("no_route", format!("no file {path}")).into_response();
    };
    let mime = mime_guess::from_path(name).first_or_octet_stream();
    // Vite names built assets by their hash: they never change.
    let cache = if name.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = Response::new(Body::from(bytes.into_owned()));
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(mime.as_ref()) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    secure(headers);
    *response.status_mut() = StatusCode::OK;
    response
}

/// The security headers of the web app's responses.
pub fn secure(headers: &mut axum::http::HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

/// The bytes of `file` (a path relative to the build's root), from `dir` when
/// given, else from the assets built in. Never leaves `dir`.
fn asset(dir: Option<&Path>, file: &str) -> Option<Cow<'static, [u8]>> {
    if file.is_empty()
        || file
            .split('/')
            .any(|part| part.is_empty() || part == ".." || part == "." || part.contains('\\'))
    {
        return None;
    }
    match dir {
        Some(dir) => std::fs::read(dir.join(file)).ok().map(Cow::Owned),
        None => Assets::get(file).map(|f| f.data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_never_leaves_the_web_directory() {
        let dir = std::env::temp_dir();
        for bad in ["../etc/passwd", "a/../../b", "./x", "a//b", "", "a\\..\\b"] {
            assert!(asset(Some(&dir), bad).is_none(), "{bad}");
        }
    }
}
