//! The edge against hostile clients, on the real `qun serve` binary over
//! real sockets: a slow-client flood, a flood of made-up method names and
//! paths, and a request flood from one address. Each asserts what everyone
//! else notices: `/healthz` and a normal request still answer, the flood
//! holds no more than its share of connections, `/metrics` stays the same
//! size. (The edge does not depend on the database backend: SQLite only.)

mod server_common;

use std::net::SocketAddr;
use std::time::Duration;

use qun_tests::{Backend, TestDb};
use reqwest::{Client, Method, StatusCode};
use server_common::Server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const ADMIN: &str = "flood-bootstrap-admin-token";

fn socket_addr(server: &Server) -> SocketAddr {
    server
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("server address")
}

/// A connection to `server` from the loopback address `from` (all of
/// 127.0.0.0/8 is this machine), so a flood can come from elsewhere than
/// the test's own requests.
async fn connect_from(from: &str, server: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(format!("{from}:0").parse().expect("address"))?;
    socket.connect(server).await
}

/// Whether the server closed `stream`: EOF or a reset within `wait` (a hang
/// guard; an open connection simply stays silent).
async fn closed_by_server(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 256];
    loop {
        match tokio::time::timeout(wait, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

async fn healthy(client: &Client, server: &Server) {
    let health = client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .expect("/healthz answers");
    assert_eq!(health.status(), StatusCode::OK);
    let me = client
        .get(format!("{}/v1/me", server.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("/v1/me answers");
    assert_eq!(me.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_slow_client_flood_does_not_take_the_server_offline() {
    let Some(db) = TestDb::new(Backend::Sqlite).await else {
        return;
    };
    let server = Server::start_limited(
        &db.url,
        ADMIN,
        &[
            "--max-connections-per-address",
            "40",
            "--header-read-timeout-secs",
            "120",
        ],
    );
    let addr = socket_addr(&server);
    // 400 connections from one address, each sending a request head that
    // never ends (the classic slowloris).
    let mut flood = Vec::new();
    for _ in 0..400 {
        if let Ok(mut stream) = connect_from("127.0.0.2", addr).await {
            let _ = stream
                .write_all(b"GET /healthz HTTP/1.1\r\nHost: qun\r\nX-Slow: a")
                .await;
            flood.push(stream);
        }
    }
    assert!(flood.len() > 40, "the flood connected ({})", flood.len());

    // Everyone else is still served, /healthz and a signed-in request alike.
    let client = Client::new();
    healthy(&client, &server).await;

    // The flood holds no more than its per-address share: the rest were closed.
    let checks = flood
        .iter_mut()
        .map(|stream| closed_by_server(stream, Duration::from_secs(3)));
    let closed = futures::future::join_all(checks)
        .await
        .into_iter()
        .filter(|closed| *closed)
        .count();
    let held = flood.len() - closed;
    assert!(
        held <= 40,
        "one address holds {held} connections; the cap is 40"
    );
    assert!(held > 0, "the first connections of the address are served");
    healthy(&client, &server).await;
}

#[tokio::test]
async fn a_half_sent_request_or_an_idle_connection_is_closed_after_the_header_timeout() {
    let Some(db) = TestDb::new(Backend::Sqlite).await else {
        return;
    };
    let server = Server::start_with(&db.url, ADMIN, &["--header-read-timeout-secs", "1"]);
    let addr = socket_addr(&server);
    // A request head that never ends.
    let mut slow = connect_from("127.0.0.3", addr).await.expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: qun\r\n")
        .await
        .expect("write");
    assert!(
        closed_by_server(&mut slow, Duration::from_secs(60)).await,
        "a half-sent request is dropped"
    );
    // A keep-alive connection that goes quiet after its request.
    let mut idle = connect_from("127.0.0.3", addr).await.expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: qun\r\n\r\n")
        .await
        .expect("write");
    assert!(
        closed_by_server(&mut idle, Duration::from_secs(60)).await,
        "an idle keep-alive connection is dropped"
    );
    healthy(&Client::new(), &server).await;
}

/// A method name no server knows: `X` and `len` more letters, unique per `n`.
fn made_up_method(n: usize, len: usize) -> Method {
    let name = format!("X{n:06}{}", "Q".repeat(len));
    Method::from_bytes(name.as_bytes()).expect("a token")
}

#[tokio::test]
async fn made_up_methods_and_paths_do_not_grow_the_metrics() {
    let Some(db) = TestDb::new(Backend::Sqlite).await else {
        return;
    };
    let server = Server::start_with(&db.url, ADMIN, &[]);
    let client = Client::new();
    let metrics = || async {
        client
            .get(format!("{}/metrics", server.base))
            .send()
            .await
            .expect("/metrics")
            .text()
            .await
            .expect("metrics text")
    };
    let flood = |from: usize, to: usize| {
        let client = client.clone();
        let base = server.base.clone();
        async move {
            for n in from..to {
                for path in [
                    format!("/v1/groups/g_{n}/messages"),
                    format!("/no/such/route/{n}"),
                    "/healthz".to_string(),
                ] {
                    let _ = client
                        .request(made_up_method(n, 4000), format!("{base}{path}"))
                        .bearer_auth(ADMIN)
                        .send()
                        .await
                        .expect("the server answers a made-up method");
                }
                let _ = client
                    .get(format!("{base}/v1/groups/g_{n}"))
                    .bearer_auth(ADMIN)
                    .send()
                    .await
                    .expect("answer");
            }
        }
    };
    flood(0, 10).await;
    // (The first scrape adds the scrape's own series.)
    metrics().await;
    let small = metrics().await;
    flood(10, 400).await;
    let large = metrics().await;
    // Counters grew, labels did not: the same series (lines), a few more digits.
    let series = |text: &str| text.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(
        series(&large),
        series(&small),
        "new series appeared:\n{small}\n---\n{large}"
    );
    assert!(
        large.len() <= small.len() + 4096,
        "/metrics grew from {} to {} bytes",
        small.len(),
        large.len()
    );
    assert!(!large.contains("QQQQ"), "a made-up method became a label");
    assert!(!large.contains("g_1"), "a concrete path became a label");
    assert!(large.contains("method=\"other\""), "{large}");
    healthy(&client, &server).await;
}

#[tokio::test]
async fn one_address_flooding_the_api_gets_named_429s_and_healthz_still_answers() {
    let Some(db) = TestDb::new(Backend::Sqlite).await else {
        return;
    };
    let server = Server::start_limited(
        &db.url,
        ADMIN,
        &["--rate-address-per-sec", "1", "--rate-address-burst", "5"],
    );
    let client = Client::new();
    let mut limited = None;
    for _ in 0..30 {
        let response = client
            .get(format!("{}/v1/me", server.base))
            .bearer_auth(ADMIN)
            .send()
            .await
            .expect("answer");
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(response);
            break;
        }
        assert_eq!(response.status(), StatusCode::OK);
    }
    let limited = limited.expect("the address was rate limited");
    let retry_after: u64 = limited
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!(retry_after >= 1);
    let body: serde_json::Value = limited.json().await.expect("JSON error");
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    // Operations stay reachable for the monitoring that needs them.
    let health = client
        .get(format!("{}/healthz", server.base))
        .send()
        .await
        .expect("/healthz");
    assert_eq!(health.status(), StatusCode::OK);
}
