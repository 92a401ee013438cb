//! The HTTP API (v1): one router per resource, merged here into one
//! [`OpenApiRouter`] so the served routes and `/openapi.json` can never drift.
//!
//! ```no_run
//! # async fn demo(runtime: qun_host::Runtime) {
//! let state = qun_host::AppState::new(runtime, qun_host::http::HttpConfig::default());
//! let router: axum::Router = qun_host::app(state);
//! # }
//! ```

mod admin;
mod apps;
mod audit;
mod auth;
pub mod demo;
// Issue 16: developer mode.
mod dev;
mod elements;
mod error;
mod events;
pub mod files;
mod forms;
mod groups;
mod incident;
mod installations;
mod ledger;
mod logs;
mod messages;
mod metrics;
mod number;
mod openapi;
mod ops;
mod payments;
pub mod rate;
pub mod render;
mod respond;
mod review;
// Issue 16: rollouts.
mod replays;
mod rollouts;
pub mod serve;
mod settings;
mod stats;
mod stream;
pub mod text;
mod tokens;
// Issue 15: uploads compile outside the request.
pub mod uploads;
mod users;
mod views;
mod wallets;
pub mod web;

pub use auth::Auth;
pub use error::{ApiError, ErrorBody, ErrorDetail};
pub use metrics::Metrics;
pub use payments::spawn_payment_expiry;
pub use stream::Notifier;
pub use users::new_token;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts};
use axum::{Extension, Router};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::runtime::{Invocation, InvokeError, Outcome, Runtime};
use crate::store::Store;

/// Edge limits of the HTTP server.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Largest `.wasm` upload, in bytes (larger ones get 413).
    pub max_wasm_bytes: usize,
    /// How long an upload's request waits for its compile before answering
    /// `202` with the upload to follow (zero: never waits).
    pub upload_wait: Duration,
    /// Uploads one host holds in memory while they wait for (or are in) the
    /// compiler; past it uploads get 503 `compile_queue_full`.
    pub compile_queue: usize,
    /// Largest JSON body, in bytes (larger ones get 413).
    pub max_json_bytes: usize,
    /// Time allowed to produce a response head (a stream's body may run on).
    pub request_timeout: Duration,
    /// How often a live stream looks for messages other hosts wrote.
    pub stream_poll: Duration,
    // Edge limits (issue 11 items 1-2, issue 10 item 10).
    /// Rate limits; `None` (the default here, for tests and embedding) turns
    /// them off. `qun serve` turns them on unless `--rate-limits false`.
    pub rate: Option<rate::RateConfig>,
    /// Requests handled at once; past it requests get 503 `overloaded`.
    pub max_in_flight: usize,
    /// Live streams one user may hold open on this host.
    pub streams_per_user: usize,
    /// Live streams open on one group on this host.
    pub streams_per_group: usize,
    /// Serve the web app from this directory instead of the assets built into
    /// the binary (for working on the web app; see `web.rs`).
    pub web_dir: Option<std::path::PathBuf>,
    /// The demo's users and their tokens, offered by the sign-in page
    /// (`GET /v1/demo/users`); empty unless `qun serve --demo`.
    pub demo_users: Vec<demo::DemoUser>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            // JavaScript (StarlingMonkey) and Python components are 12-20 MB.
            max_wasm_bytes: 32 << 20,
            upload_wait: Duration::from_secs(10),
            compile_queue: 4,
            max_json_bytes: 64 << 10,
            request_timeout: Duration::from_secs(30),
            stream_poll: Duration::from_millis(400),
            rate: None,
            max_in_flight: 1024,
            streams_per_user: 16,
            streams_per_group: 1024,
            web_dir: None,
            demo_users: Vec::new(),
        }
    }
}

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Runs apps; owns the store.
    pub runtime: Runtime,
    /// Edge limits.
    pub config: Arc<HttpConfig>,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// Wakes live streams when this host posts.
    pub notifier: Notifier,
    /// Rate limits (`None`: off).
    pub rate: Option<Arc<rate::RateLimits>>,
    /// Uploads waiting for the compiler.
    pub compile_queue: uploads::CompileQueue,
}

impl AppState {
    /// State over `runtime` with `config`.
    pub fn new(runtime: Runtime, config: HttpConfig) -> AppState {
        AppState {
            runtime,
            metrics: Metrics::default(),
            notifier: Notifier::default(),
            rate: config
                .rate
                .clone()
                .map(|c| Arc::new(rate::RateLimits::new(c))),
            compile_queue: uploads::CompileQueue::new(config.compile_queue),
            config: Arc::new(config),
        }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        self.runtime.store()
    }

    /// Run an invocation of `app` in `group_id`, counting it in the metrics
    /// and waking the group's streams if it posted. The acting member's
    /// share of the app's message quota is checked first (when rate limits
    /// are on); a crash answers with an incident id, its text goes to the
    /// developer's log.
    pub async fn invoke(
        &self,
        app: &str,
        group_id: &str,
        invocation: Invocation,
    ) -> Result<Outcome, ApiError> {
        let mut invocation = invocation;
        let invocation_id = invocation
            .invocation_id
            .get_or_insert_with(incident::new_invocation_id)
            .clone();
        let installation = invocation.installation_id.clone();
        let member = invocation.actor.clone();
        if let (Some(rate), Some(member)) = (self.rate.as_deref(), &member) {
            let quota = self.runtime.limits().messages_per_minute;
            rate.share_check(&installation, member, quota)?;
        }
        let started = Instant::now();
        let result = self.runtime.invoke(invocation).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(InvokeError::App(e)) => crate::capabilities::error_code(e),
            Err(e) => e.code(),
        };
        self.metrics.invocation(app, outcome, started.elapsed());
        match result {
            Ok(done) => {
                if !done.posted.is_empty() || !done.changed.is_empty() || !done.private.is_empty() {
                    self.notifier.notify(group_id);
                }
                if let (Some(rate), Some(member)) = (self.rate.as_deref(), &member) {
                    rate.share_used(&installation, member, done.posted.len());
                }
                Ok(done)
            }
            Err(e) => Err(incident::api_error(&invocation_id, e)),
        }
    }
}

/// A JSON object body whose rejections (malformed JSON, not an object, wrong
/// content type, too large) answer in the API's error format. Only an object
/// is accepted: serde would otherwise read a struct from an array too
/// (`[null, null]` as a patch that changes nothing).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let axum::Json(ObjectOnly(value)) =
            axum::Json::<ObjectOnly<T>>::from_request(req, state).await?;
        Ok(ApiJson(value))
    }
}

/// `T` read from a JSON object only.
struct ObjectOnly<T>(T);

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Object<T>(std::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for Object<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(Object(std::marker::PhantomData))
            .map(ObjectOnly)
    }
}

/// Any JSON document as a body (an app's action payload), with the API's
/// error format for rejections.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJsonAny<T>(pub T);

/// A query string whose rejections (a value of the wrong type) answer in the
/// API's error format (400 `bad_query`).
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

#[derive(OpenApi)]
#[openapi(
    info(title = "Qun", description = "Host server for group apps (sandboxed WebAssembly components)."),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// Every route with its OpenAPI description: the single list both the
/// router and `/openapi.json` are built from.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(ops::routes())
        .merge(users::routes())
        .merge(groups::routes())
        .merge(messages::routes())
        .merge(elements::routes())
        .merge(forms::routes())
        .merge(stream::routes())
        .merge(apps::routes())
        .merge(installations::routes())
        .merge(admin::routes())
        .merge(audit::routes())
        .merge(logs::routes())
        .merge(wallets::routes())
        .merge(payments::routes())
        .merge(ledger::routes())
        .merge(events::routes())
        .merge(tokens::routes())
        .merge(demo::routes())
        .merge(review::routes())
        .merge(stats::routes())
        .merge(files::routes())
        .merge(dev::routes())
        .merge(uploads::routes())
        .merge(rollouts::routes())
        .merge(replays::routes())
}

/// The OpenAPI document of the API, with the rules the edge enforces on
/// every route (see `openapi.rs`).
pub fn openapi() -> serde_json::Value {
    openapi::finish(api().into_openapi())
}

/// The whole HTTP API over `state`.
pub fn app(state: AppState) -> Router {
    let (router, doc) = api().split_for_parts();
    let doc = openapi::finish(doc);
    let config = state.config.clone();
    router
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            text::guard,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .fallback(web::fallback)
        .layer(Extension(Arc::new(doc)))
        .layer(DefaultBodyLimit::max(config.max_json_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            request_timeout,
        ))
        // Edge limits (issue 11 items 1-2): per-address rate, then a cap on
        // requests in flight that sheds the excess at once with a 503.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            rate::per_address,
        ))
        .layer(
            tower::ServiceBuilder::new()
                .layer(axum::error_handling::HandleErrorLayer::new(
                    |_: tower::BoxError| async {
                        ApiError::Overloaded(
                            "the server is handling as many requests as it can; retry shortly"
                                .into(),
                        )
                    },
                ))
                .load_shed()
                .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
                    config.max_in_flight.max(1),
                )),
        )
        // Whatever answers an error without the JSON shape (axum's own
        // rejections, a 405) is given it, last of all.
        .layer(axum::middleware::from_fn(error::json_errors))
        .with_state(state)
}

/// Bound the time to a response head (a stream's body then runs on), and
/// answer in the API's error format when it runs out.
async fn request_timeout(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let limit = state.config.request_timeout;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Unavailable(format!(
            "the request did not complete within {} s; try again",
            limit.as_secs()
        ))
        .into_response(),
    }
}
