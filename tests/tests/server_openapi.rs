//! `/openapi.json` lists every route the router serves: the routes
//! are all documented, and every documented operation is served.

mod server_common;

use axum::http::{Method, StatusCode};
use qun_host::http::HttpConfig;
use qun_tests::{Backend, backend_tests};
use server_common::{call, code, fill, operations, router};

backend_tests!(the_openapi_document_and_the_router_agree);

/// The routes issue 3 asks for.
const EXPECTED: &[(&str, &str)] = &[
    ("POST", "/v1/users"),
    ("GET", "/v1/me"),
    ("POST", "/v1/groups"),
    ("GET", "/v1/groups/{gid}"),
    ("POST", "/v1/groups/{gid}/members"),
    ("GET", "/v1/groups/{gid}/members"),
    ("DELETE", "/v1/groups/{gid}/members/{uid}"),
    ("POST", "/v1/groups/{gid}/messages"),
    ("GET", "/v1/groups/{gid}/messages"),
    ("GET", "/v1/groups/{gid}/stream"),
    ("POST", "/v1/apps"),
    ("POST", "/v1/apps/{slug}/versions"),
    ("GET", "/v1/apps/{slug}"),
    ("GET", "/v1/catalog"),
    ("POST", "/v1/groups/{gid}/apps"),
    ("GET", "/v1/groups/{gid}/apps"),
    ("DELETE", "/v1/groups/{gid}/apps/{slug}"),
    ("POST", "/v1/groups/{gid}/apps/{slug}/actions/{action}"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
];

async fn the_openapi_document_and_the_router_agree(backend: Backend) {
    let Some((_db, _state, app)) = router(backend, HttpConfig::default()).await else {
        return;
    };

    // The served document is the one built from the code.
    let (status, served) = call(&app, Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let built = serde_json::to_value(qun_host::http::openapi()).expect("document as JSON");
    assert_eq!(served["paths"], built["paths"]);
    assert!(
        served["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.")),
        "{}",
        served["openapi"]
    );

    let documented: Vec<(String, String)> = operations(&served)
        .into_iter()
        .map(|(m, p)| (m.as_str().to_string(), p))
        .collect();
    for (method, path) in EXPECTED {
        assert!(
            documented.iter().any(|(m, p)| m == method && p == path),
            "{method} {path} is not in /openapi.json; documented: {documented:?}"
        );
    }

    // Every documented operation is served (no 405, no fallback 404).
    let params = [
        ("gid", "g_none"),
        ("uid", "u_none"),
        ("slug", "none"),
        ("action", "vote"),
    ];
    for (method, template) in operations(&served) {
        let path = fill(&template, &params);
        let (status, body) = call(&app, method.clone(), &path, None, None).await;
        assert_ne!(
            status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {template}"
        );
        assert_ne!(
            code(&body),
            "no_route",
            "{method} {template} is documented but not served"
        );
    }

    // And what is not documented is not served.
    let (status, body) = call(&app, Method::GET, "/v1/nothing-here", None, None).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "no_route"));
}
