//! `wasi:http` without a way out (issue 15 item 2).
//!
//! componentize-js imports `wasi:http/types` and `wasi:http/outgoing-handler`
//! (0.2) unless an app is built with `-d http`. Both are linked so that such
//! a default build loads and runs, and every outgoing request is refused:
//! the app sees `ErrorCode::HttpRequestDenied` (in JavaScript, `fetch`
//! rejects), never a response and never a connection. The crate is built
//! without its `default-send-request` feature, so the host has no HTTP
//! client to send one with even by mistake. The types themselves (fields,
//! requests, responses, bodies) are data inside the invocation's resource
//! table.

use std::future::Future;

use hyper::http;
use wasmtime_wasi_http::{
    Error, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView,
};

use super::InvocationState;

/// The `wasi:http` state of one invocation.
#[derive(Default)]
pub(crate) struct HttpState {
    ctx: WasiHttpCtx,
    hooks: NoNetwork,
}

/// Hooks that refuse every outgoing request.
#[derive(Default)]
pub(crate) struct NoNetwork;

/// What [`WasiHttpHooks::send_request`] answers.
type Sent = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), Error>> + Send>,
                ),
                Error,
            >,
        > + Send,
>;

impl WasiHttpHooks for NoNetwork {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Sent {
        tracing::debug!(uri = %request.uri(), "outgoing wasi:http request refused");
        drop(request);
        Box::new(async { Err(Error::HttpRequestDenied) })
    }
}

impl WasiHttpView for InvocationState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http.ctx,
            table: &mut self.table,
            hooks: &mut self.http.hooks,
        }
    }
}
