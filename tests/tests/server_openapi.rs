//! `/openapi.json` lists every route the router serves: the routes
//! are all documented, and every documented operation is served.

mod server_common;

use axum::http::{Method, StatusCode};
use qun_host::http::HttpConfig;
use qun_tests::{Backend, backend_tests};
use serde_json::{Value, json};
use server_common::{call, code, fill, operations, router};

backend_tests!(
    the_openapi_document_and_the_router_agree,
    every_error_is_the_json_shape,
    unlisted_apps_answer_like_missing_ones,
);

/// The routes issue 3 asks for.
const EXPECTED: &[(&str, &str)] = &[
    // Rollouts (issue 16).
    ("POST", "/v1/apps/{slug}/rollouts"),
    ("GET", "/v1/apps/{slug}/rollouts"),
    ("GET", "/v1/apps/{slug}/rollouts/{id}"),
    ("PATCH", "/v1/apps/{slug}/rollouts/{id}"),
    ("POST", "/v1/apps/{slug}/rollouts/{id}/rollback"),
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

/// The parameter `name` of `method path` in the document.
fn param<'a>(doc: &'a Value, method: &str, path: &str, name: &str) -> &'a Value {
    doc["paths"][path][method]["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("{method} {path} has no parameter {name}"))
}

/// Follow a `$ref` to its component.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling {r}")),
        None => schema,
    }
}

#[test]
fn the_document_publishes_what_the_server_enforces() {
    let doc = qun_host::http::openapi();

    // Query parameters are in the query, for every route that has them.
    for (path, names) in [
        ("/v1/groups/{gid}/messages", &["after", "limit"][..]),
        ("/v1/groups/{gid}/members", &["cursor", "limit"]),
        ("/v1/groups/{gid}/payments", &["status", "limit"]),
        ("/v1/groups/{gid}/stream", &["after"]),
        ("/v1/me/payments", &["status", "limit"]),
        ("/v1/me/direct-messages", &["after", "limit"]),
        ("/v1/apps/{slug}/events", &["status", "limit"]),
        ("/v1/apps/{slug}/logs", &["version", "before", "limit"]),
        (
            "/v1/admin/audit",
            &["app", "group", "since", "outcome", "before", "limit"],
        ),
    ] {
        for name in names {
            let p = param(&doc, "get", path, name);
            assert_eq!(p["in"], "query", "{path} {name}: {p}");
            assert_ne!(p["required"], true, "{path} {name}: {p}");
        }
    }
    // Every path parameter is in a path that names it.
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (_, op) in item.as_object().expect("item") {
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["in"] == "path" {
                    let name = p["name"].as_str().expect("name");
                    assert!(path.contains(&format!("{{{name}}}")), "{path}: {p}");
                }
            }
        }
    }
    // `limit` is an unsigned 32-bit integer.
    let limit = &param(&doc, "get", "/v1/groups/{gid}/messages", "limit")["schema"];
    assert_eq!(
        (limit["minimum"].as_f64(), limit["maximum"].as_f64()),
        (Some(0.0), Some(4294967295.0)),
        "{limit}"
    );
    // Enums and patterns.
    let status = &param(&doc, "get", "/v1/me/payments", "status")["schema"];
    assert_eq!(
        status["pattern"], "^(pending|settled|declined|expired)$",
        "{status}"
    );
    let key = &param(&doc, "post", "/v1/payments/{id}/confirm", "Idempotency-Key")["schema"];
    assert_eq!(key["pattern"], "^[!-~]{1,255}$", "{key}");
    let gid = &param(&doc, "get", "/v1/groups/{gid}", "gid")["schema"];
    assert!(
        gid["pattern"]
            .as_str()
            .is_some_and(|p| p.contains("\\u0000")),
        "{gid}"
    );
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["NewApp"]["properties"]["slug"]["pattern"],
        "^[a-z0-9][a-z0-9-]{0,39}$"
    );
    assert_eq!(
        schemas["NewUser"]["properties"]["name"]["pattern"],
        "^[A-Za-z0-9._-]{1,64}$"
    );
    assert_eq!(schemas["NewGroup"]["properties"]["name"]["maxLength"], 100);
    assert_eq!(schemas["Reason"]["properties"]["reason"]["maxLength"], 2000);
    assert_eq!(schemas["NewText"]["properties"]["text"]["maxLength"], 4096);
    assert_eq!(
        schemas["Credit"]["properties"]["amount"]["minimum"].as_f64(),
        Some(1.0)
    );
    assert_eq!(
        schemas["Credit"]["properties"]["amount"]["maximum"].as_f64(),
        Some(1e12)
    );
    let currency = resolve(&doc, &schemas["Credit"]["properties"]["currency"]);
    let codes = currency["enum"].as_array().expect("currency enum");
    assert!(
        codes.contains(&json!("CNY")) && !codes.contains(&json!("XXX")),
        "{currency}"
    );
    let role = &schemas["NewMember"]["properties"]["role"];
    let role = role["oneOf"]
        .as_array()
        .and_then(|v| v.iter().find(|s| s.get("$ref").is_some()))
        .map(|s| resolve(&doc, s))
        .unwrap_or_else(|| resolve(&doc, role));
    assert_eq!(role["enum"], json!(["member", "admin"]), "{role}");

    // The upload is binary wasm; /metrics is OpenMetrics text.
    let upload = &doc["paths"]["/v1/apps/{slug}/versions"]["post"]["requestBody"]["content"];
    let wasm = resolve(&doc, &upload["application/wasm"]["schema"]);
    assert_eq!(
        (wasm["type"].as_str(), wasm["format"].as_str()),
        (Some("string"), Some("binary")),
        "{upload}"
    );
    let metrics = &doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"];
    assert!(
        metrics.as_object().is_some_and(|c| c
            .keys()
            .all(|k| k.starts_with("application/openmetrics-text"))),
        "{metrics}"
    );

    // Every operation documents the statuses the edge answers, with the error schema.
    for (method, path) in operations(&doc) {
        let op = &doc["paths"][&path][method.as_str().to_lowercase()];
        let responses = op["responses"].as_object().expect("responses");
        // Public: no token (`security: [{}]`), like `/healthz` and the demo's users.
        let public = op["security"].as_array().is_some_and(|s| {
            s.iter()
                .all(|r| r.as_object().is_some_and(|o| o.is_empty()))
        });
        assert_eq!(
            public,
            !path.starts_with("/v1/") || path == "/v1/demo/users",
            "{method} {path}: only the ops routes and the demo's users need no token"
        );
        let mut wanted = vec!["400", "503"];
        if !public {
            wanted.extend(["401", "429"]);
        }
        if path.starts_with("/v1/") {
            // The per-address rate limit covers every /v1 route.
            wanted.push("429");
        }
        if op.get("requestBody").is_some() {
            wanted.push("413");
        }
        for status in wanted {
            let response = responses
                .get(status)
                .unwrap_or_else(|| panic!("{method} {path} does not document {status}"));
            assert_eq!(
                response["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{method} {path} {status}"
            );
        }
    }
}

async fn every_error_is_the_json_shape(backend: Backend) {
    let Some((db, _state, app)) = router(backend, HttpConfig::default()).await else {
        return;
    };
    db.store
        .create_user("root", "root-token", true, true)
        .await
        .expect("admin");
    let token = Some("root-token");
    let cases: &[(Method, &str, &str, u16, &str)] = &[
        // A bad query value, on every kind of route.
        (
            Method::GET,
            "/v1/admin/audit?limit=many",
            "",
            400,
            "bad_query",
        ),
        (
            Method::GET,
            "/v1/admin/audit?since=yesterday",
            "",
            400,
            "bad_query",
        ),
        (
            Method::GET,
            "/v1/apps/none/logs?before=x",
            "",
            400,
            "bad_query",
        ),
        (
            Method::GET,
            "/v1/me/payments?limit=-1",
            "",
            400,
            "bad_query",
        ),
        (
            Method::GET,
            "/v1/me/direct-messages?after=x",
            "",
            400,
            "bad_query",
        ),
        // A path id that is not UTF-8 once decoded.
        (Method::GET, "/v1/groups/%FF%FE", "", 400, "bad_path"),
        (Method::GET, "/v1/apps/%C3%28", "", 400, "bad_path"),
        (
            Method::DELETE,
            "/v1/groups/g/members/%FF",
            "",
            400,
            "bad_path",
        ),
        // A method the route does not answer, a route that does not exist.
        (Method::PUT, "/v1/me", "", 405, "method_not_allowed"),
        (Method::DELETE, "/healthz", "", 405, "method_not_allowed"),
        (Method::GET, "/v1/nothing", "", 404, "no_route"),
        // Bodies.
        (Method::POST, "/v1/groups", "{", 400, "bad_json"),
        (Method::POST, "/v1/groups", "{\"name\": 3}", 400, "bad_json"),
    ];
    for (method, path, body, status, want) in cases {
        let body = (!body.is_empty()).then(|| ("application/json", body.as_bytes().to_vec()));
        let (got, answer) = call(&app, method.clone(), path, token, body).await;
        assert_eq!(
            (got.as_u16(), code(&answer)),
            (*status, *want),
            "{method} {path}: {answer}"
        );
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{method} {path}: {answer}"
        );
    }
}

async fn unlisted_apps_answer_like_missing_ones(backend: Backend) {
    let Some((db, _state, app)) = router(backend, HttpConfig::default()).await else {
        return;
    };
    let store = &db.store;
    let dev = store
        .create_user("dev", "dev-token", false, true)
        .await
        .expect("dev");
    let eve = store
        .create_user("eve", "eve-token", false, true)
        .await
        .expect("eve");
    // Registered, no approved version: unlisted.
    store
        .create_app("secret", "Secret", "", &dev.id)
        .await
        .expect("app");
    for route in ["", "/logs", "/audit", "/events", "/stats", "/rollouts"] {
        let hidden = call(
            &app,
            Method::GET,
            &format!("/v1/apps/secret{route}"),
            Some("eve-token"),
            None,
        )
        .await;
        let missing = call(
            &app,
            Method::GET,
            &format!("/v1/apps/nothing{route}"),
            Some("eve-token"),
            None,
        )
        .await;
        assert_eq!(hidden.0, StatusCode::NOT_FOUND, "{route}: {}", hidden.1);
        assert_eq!(
            (hidden.0, code(&hidden.1)),
            (missing.0, code(&missing.1)),
            "{route}"
        );
        let own = call(
            &app,
            Method::GET,
            &format!("/v1/apps/secret{route}"),
            Some("dev-token"),
            None,
        )
        .await;
        assert_eq!(own.0, StatusCode::OK, "{route}: {}", own.1);
    }
    // Installing it: the same answer as an app that does not exist.
    let group = store.create_group("mine", &eve.id).await.expect("group");
    let path = format!("/v1/groups/{}/apps", group.id);
    let mut answers = Vec::new();
    for slug in ["secret", "nothing"] {
        let body = serde_json::to_vec(&json!({"app": slug})).expect("body");
        let (status, answer) = call(
            &app,
            Method::POST,
            &path,
            Some("eve-token"),
            Some(("application/json", body)),
        )
        .await;
        answers.push((status, code(&answer).to_string()));
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(
        answers[0],
        (StatusCode::NOT_FOUND, "app_not_found".to_string())
    );
}
