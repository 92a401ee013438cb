//! Serving the API on a socket with connection hygiene (issue 11 item 1):
//! hyper's own HTTP/1.1 connection settings (a header-read timeout that is
//! also the keep-alive idle timeout), a cap on open connections overall and
//! per client address, and graceful shutdown.
//!
//! A client that sends a request head byte by byte, or opens connections and
//! sends nothing, holds a connection for at most `header_read_timeout`; one
//! address holds at most `max_connections_per_address` of them, so a flood
//! from one place cannot take the connections (or the open files) that
//! everyone else, `/healthz` included, needs. Connections past a cap are
//! closed at once rather than queued.
//!
//! Only HTTP/1.1 is served: there is no cleartext HTTP/2 client worth the
//! protocol sniffing (which hyper does without a timeout), and a TLS
//! terminator in front speaks HTTP/1.1 to us.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

use super::rate::address_key;

/// The client address of a request (a request extension), set when served
/// by [`serve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// Connection limits of [`serve`].
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Time a client has to send a whole request head; also how long an idle
    /// keep-alive connection stays open.
    pub header_read_timeout: Duration,
    /// Open connections at once; more are closed on accept.
    pub max_connections: usize,
    /// Open connections from one client address (IPv6: one /64).
    pub max_connections_per_address: usize,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 4096,
            max_connections_per_address: 256,
        }
    }
}

/// Open connections per client address.
#[derive(Default)]
struct PerAddress(Mutex<HashMap<IpAddr, usize>>);

/// One counted connection of an address; uncounted when dropped.
struct AddressSlot {
    counts: Arc<PerAddress>,
    key: IpAddr,
}

impl PerAddress {
    fn take(counts: &Arc<PerAddress>, ip: IpAddr, max: usize) -> Option<AddressSlot> {
        let key = address_key(ip);
        let mut map = counts.0.lock().unwrap_or_else(|p| p.into_inner());
        let open = map.entry(key).or_insert(0);
        if *open >= max {
            return None;
        }
        *open += 1;
        Some(AddressSlot {
            counts: counts.clone(),
            key,
        })
    }
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut map = self.counts.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(open) = map.get_mut(&self.key) {
            *open -= 1;
            if *open == 0 {
                map.remove(&self.key);
            }
        }
    }
}

/// Serve `router` on `listener` until `shutdown` completes, then stop
/// accepting, let in-flight requests finish and return.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    config: ServeConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let max = config.max_connections.max(1);
    let slots = Arc::new(Semaphore::new(max));
    let per_address = Arc::new(PerAddress::default());
    let (closing, closed) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off, do not spin.
                    tracing::warn!("accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "connection cap reached; closing a new connection");
            continue;
        };
        let Some(address_slot) = PerAddress::take(
            &per_address,
            peer.ip(),
            config.max_connections_per_address.max(1),
        ) else {
            tracing::debug!(%peer, "per-address connection cap reached; closing");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let client = ClientAddr(peer.ip());
        let mut closed = closed.clone();
        let header_read_timeout = config.header_read_timeout;
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                    request.extensions_mut().insert(client);
                    router.clone().oneshot(request.map(Body::new))
                });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!("connection ended: {e}");
                    }
                }
                () = async { let _ = closed.wait_for(|closing| *closing).await; } => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(address_slot);
            drop(slot);
        });
    }
    drop(listener);
    closing.send_replace(true);
    // Every connection gives its slot back when it is done.
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
    Ok(())
}
