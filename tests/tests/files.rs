//! Files (issue 17) over real HTTP against the real `qun` binary, on both
//! backends: members upload and attach files, give them to an app through
//! a form's file input, download what they may see (404 for everyone
//! else), and apps create, read, show and delete files through the `files`
//! capability. The app is `filer` (tests/components/apps/filer).

mod server_common;

use std::path::Path;
use std::time::Duration;

use qun_tests::{Backend, TestDb, backend_tests};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use server_common::Server;

backend_tests!(
    a_handed_in_photo_reaches_the_app_and_downloads_byte_for_byte,
    attachments_are_seen_by_the_group_and_handed_to_subscribed_apps,
    outsiders_and_members_who_cannot_see_a_file_get_404,
    an_app_without_the_files_grant_is_denied,
    an_app_that_writes_a_file_and_traps_leaves_no_file_and_no_bytes,
    files_over_the_limit_and_groups_over_their_quota_get_named_errors,
    html_is_served_as_an_attachment_and_ranges_work,
    equal_bytes_are_stored_once_and_deleted_files_show_as_deleted,
    the_sweep_removes_what_nothing_uses_and_keeps_the_rest,
);

const ADMIN: &str = "files-admin-token";

/// A 1×1 transparent PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x60, 0x00, 0x02, 0x00,
    0x00, 0x05, 0x00, 0x01, 0xE9, 0xFA, 0xDC, 0xD8, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44,
    0xAE, 0x42, 0x60, 0x82,
];

struct Api {
    client: Client,
    base: String,
}

impl Api {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let text = response.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, token, None).await
    }

    async fn user(&self, name: &str, developer: bool) -> (String, String) {
        let (status, body) = self
            .post(
                "/v1/users",
                ADMIN,
                json!({"name": name, "developer": developer}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (
            body["id"].as_str().expect("id").into(),
            body["token"].as_str().expect("token").into(),
        )
    }

    async fn group(&self, owner: &str, members: &[&str]) -> String {
        let (status, group) = self
            .post("/v1/groups", owner, json!({"name": "class"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{group}");
        let gid = group["id"].as_str().expect("group id").to_string();
        for member in members {
            let (status, body) = self
                .post(
                    &format!("/v1/groups/{gid}/members"),
                    owner,
                    json!({"user_id": member}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        gid
    }

    async fn publish_filer(&self, dev: &str) {
        let (status, body) = self
            .post("/v1/apps", dev, json!({"slug": "filer", "name": "Filer"}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let response = self
            .client
            .post(format!("{}/v1/apps/filer/versions", self.base))
            .bearer_auth(dev)
            .header("content-type", "application/wasm")
            .body(qun_components::read(qun_components::FILER))
            .send()
            .await
            .expect("upload");
        let status = response.status();
        let version: Value = response.json().await.expect("version json");
        assert_eq!(status, StatusCode::CREATED, "{version}");
        assert!(
            version["capabilities"]
                .as_array()
                .expect("capabilities")
                .contains(&json!("files")),
            "capabilities are read from the imports: {version}"
        );
        let (status, body) = self
            .post(
                "/v1/admin/apps/filer/versions/0.1.0/approve",
                ADMIN,
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    async fn install(&self, gid: &str, owner: &str, grants: &[&str]) {
        let (status, body) = self
            .post(
                &format!("/v1/groups/{gid}/apps"),
                owner,
                json!({"app": "filer", "grants": grants}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// Upload `bytes` as `name`; (status, body).
    async fn upload(
        &self,
        gid: &str,
        token: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}/v1/groups/{gid}/files", self.base))
            .query(&[("name", name)])
            .bearer_auth(token)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .expect("upload");
        let status = response.status();
        let text = response.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Upload and expect 201; the file's id.
    async fn uploaded(&self, gid: &str, token: &str, name: &str, bytes: &[u8]) -> String {
        let (status, body) = self.upload(gid, token, name, bytes.to_vec()).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().expect("file id").to_string()
    }

    /// DELETE a file; the status.
    async fn delete(&self, gid: &str, fid: &str, token: &str) -> StatusCode {
        self.send(
            reqwest::Method::DELETE,
            &format!("/v1/groups/{gid}/files/{fid}"),
            token,
            None,
        )
        .await
        .0
    }

    /// GET a file's bytes; the response.
    async fn download(&self, gid: &str, fid: &str, token: &str) -> reqwest::Response {
        self.client
            .get(format!("{}/v1/groups/{gid}/files/{fid}/content", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("download")
    }

    /// Run `/text` as `token`; the text of the app's post (or the error body).
    async fn say(&self, gid: &str, token: &str, text: &str) -> (StatusCode, Value) {
        self.post(
            &format!("/v1/groups/{gid}/messages"),
            token,
            json!({"text": text}),
        )
        .await
    }

    /// Run a filer command whose answer is a text post; that text.
    async fn answer(&self, gid: &str, token: &str, text: &str) -> String {
        let (status, body) = self.say(gid, token, text).await;
        assert_eq!(status, StatusCode::CREATED, "{text}: {body}");
        body["response"]["message"]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("{text} answered no text: {body}"))
            .to_string()
    }
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

/// Files under `dir` (recursively), leaving out hidden temporaries.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Where a test server keeps file bytes: its data directory, or (the
/// PostgreSQL variants, when `scripts/s3.sh` runs an S3-compatible server)
/// a bucket of its own, as hosts sharing PostgreSQL would.
enum Bytes {
    Local(std::path::PathBuf),
    S3 { endpoint: String, bucket: String },
}

impl Bytes {
    /// The objects stored under `prefix` (`blobs` or `staging`).
    async fn objects(&self, prefix: &str) -> Vec<String> {
        match self {
            Bytes::Local(root) => files_under(&root.join(prefix))
                .into_iter()
                .map(|p| p.display().to_string())
                .collect(),
            Bytes::S3 { endpoint, bucket } => {
                let listing = Client::new()
                    .get(format!("{endpoint}/{bucket}?list-type=2&prefix={prefix}/"))
                    .send()
                    .await
                    .expect("list the bucket")
                    .text()
                    .await
                    .expect("listing");
                listing
                    .split("<Key>")
                    .skip(1)
                    .filter_map(|k| k.split("</Key>").next().map(String::from))
                    .collect()
            }
        }
    }
}

struct Setup {
    _db: TestDb,
    _server: Server,
    bytes: Bytes,
    api: Api,
    gid: String,
    owner: (String, String),
    ann: (String, String),
    ben: (String, String),
}

async fn setup(backend: Backend, args: &[&str], grants: &[&str]) -> Option<Setup> {
    setup_with(backend, args, grants, true).await
}

async fn setup_with(
    backend: Backend,
    args: &[&str],
    grants: &[&str],
    s3_if_postgres: bool,
) -> Option<Setup> {
    let db = TestDb::new(backend).await?;
    let s3 = std::env::var("QUN_TEST_S3_ENDPOINT")
        .ok()
        .filter(|_| backend == Backend::Postgres && s3_if_postgres);
    let (server, bytes) = match s3 {
        Some(endpoint) => {
            let bucket = format!("qun-test-{}", uuid::Uuid::new_v4().simple());
            let created = Client::new()
                .put(format!("{endpoint}/{bucket}"))
                .send()
                .await
                .expect("create a bucket");
            assert!(created.status().is_success(), "{created:?}");
            let url = format!("s3://{bucket}");
            let mut all: Vec<&str> = args.to_vec();
            all.extend(["--files-url", url.as_str()]);
            let server = Server::start_env(
                &db.url,
                ADMIN,
                &all,
                &[
                    ("AWS_ENDPOINT", endpoint.as_str()),
                    ("AWS_ALLOW_HTTP", "true"),
                    ("AWS_ACCESS_KEY_ID", "qun-test"),
                    ("AWS_SECRET_ACCESS_KEY", "qun-test"),
                    ("AWS_REGION", "us-east-1"),
                ],
            );
            (server, Bytes::S3 { endpoint, bucket })
        }
        None => {
            let server = Server::start_with(&db.url, ADMIN, args);
            let root = server.data_dir().join("files");
            (server, Bytes::Local(root))
        }
    };
    let api = Api {
        client: Client::new(),
        base: server.base.clone(),
    };
    let (_, dev) = api.user("dev", true).await;
    let owner = api.user("owner", false).await;
    let ann = api.user("ann", false).await;
    let ben = api.user("ben", false).await;
    let gid = api.group(&owner.1, &[&ann.0, &ben.0]).await;
    api.publish_filer(&dev).await;
    api.install(&gid, &owner.1, grants).await;
    Some(Setup {
        _db: db,
        _server: server,
        bytes,
        api,
        gid,
        owner,
        ann,
        ben,
    })
}

const ALL: &[&str] = &["files", "messaging", "storage"];

async fn a_handed_in_photo_reaches_the_app_and_downloads_byte_for_byte(backend: Backend) {
    let Some(s) = setup(backend, &[], ALL).await else {
        return;
    };
    let (api, gid) = (&s.api, s.gid.as_str());
    let photo = api.uploaded(gid, &s.ann.1, "my work.png", PNG).await;
    let (status, meta) = api
        .get(&format!("/v1/groups/{gid}/files/{photo}"), &s.ann.1)
        .await;
    assert_eq!(status, StatusCode::OK, "{meta}");
    assert_eq!(
        meta["content_type"], "image/png",
        "the type comes from the bytes"
    );
    assert_eq!(meta["inline"], true);

    let (status, posted) = api.say(gid, &s.ann.1, "/handin").await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    let fid = posted["response"]["form"]["id"]
        .as_str()
        .expect("form")
        .to_string();
    let input = &posted["response"]["form"]["blocks"][0]["input"];
    assert_eq!(input["kind"]["type"], "file", "{input}");
    assert_eq!(input["kind"]["max_files"], 3);

    // Someone else's upload cannot be handed in as yours.
    let bens = api
        .uploaded(gid, &s.ben.1, "ben.txt", b"ben's own words")
        .await;
    let form = format!("/v1/groups/{gid}/forms/{fid}");
    let (status, body) = api
        .post(&form, &s.ann.1, json!({"values": {"work": [bens]}}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("did not upload"), "{body}");
    // A type the input does not accept is refused beside the input.
    let pdf = api
        .uploaded(gid, &s.ann.1, "notes.pdf", b"%PDF-1.7\n%...")
        .await;
    let (status, body) = api
        .post(&form, &s.ann.1, json!({"values": {"work": [pdf]}}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.to_string().contains("application/pdf"), "{body}");

    let (status, done) = api
        .post(&form, &s.ann.1, json!({"values": {"work": [photo]}}))
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let reply = done.to_string();
    assert!(
        reply.contains(&format!("got 1: my work.png={}", PNG.len())),
        "the app read every byte of the photo: {reply}"
    );
    // The app now holds the file, reads it later, and the bytes are the same.
    let answer = api
        .answer(gid, &s.ann.1, &format!("/readback {photo}"))
        .await;
    assert!(answer.starts_with(&format!("{} ", PNG.len())), "{answer}");
    let response = api.download(gid, &photo, &s.ann.1).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.bytes().await.expect("bytes").as_ref(), PNG);
}

async fn attachments_are_seen_by_the_group_and_handed_to_subscribed_apps(backend: Backend) {
    let Some(s) = setup(backend, &[], ALL).await else {
        return;
    };
    let (api, gid) = (&s.api, s.gid.as_str());
    let doc = b"minutes of the meeting\n".to_vec();
    let fid = api.uploaded(gid, &s.ann.1, "minutes.txt", &doc).await;
    // Before it is attached, only its uploader sees it.
    assert_eq!(
        api.download(gid, &fid, &s.ben.1).await.status(),
        StatusCode::NOT_FOUND
    );
    let (status, posted) = api
        .post(
            &format!("/v1/groups/{gid}/messages"),
            &s.ann.1,
            json!({"text": "see attached", "files": [fid]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    let blocks = &posted["message"]["blocks"];
    assert_eq!(blocks[1]["type"], "file", "{blocks}");
    assert_eq!(blocks[1]["file"]["name"], "minutes.txt");
    assert_eq!(blocks[1]["file"]["deleted"], false);
    // Ben, in the group, sees the message and downloads the same bytes.
    let response = api.download(gid, &fid, &s.ben.1).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.bytes().await.expect("bytes").as_ref(),
        doc.as_slice()
    );
    // Another member's upload cannot be attached.
    let (status, body) = api
        .post(
            &format!("/v1/groups/{gid}/messages"),
            &s.ben.1,
            json!({"files": [fid]}),
        )
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "file_not_found")
    );
    // filer subscribes to message-posted: the event handed it the file, and
    // it holds it now (its commit), so it can read it later.
    let mut answer = String::new();
    for _ in 0..100 {
        answer = api
            .answer(gid, &s.owner.1, &format!("/readback {fid}"))
            .await;
        if answer.starts_with(&format!("{} ", doc.len())) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(answer.starts_with(&format!("{} ", doc.len())), "{answer}");
    assert!(answer.ends_with("minutes of the m"), "{answer}");
}

async fn outsiders_and_members_who_cannot_see_a_file_get_404(backend: Backend) {
    let Some(s) = setup(backend, &[], ALL).await else {
        return;
    };
    let (api, gid) = (&s.api, s.gid.as_str());
    let (_, eve) = api.user("eve", false).await;
    let other = api.group(&eve, &[]).await;
    let fid = api.uploaded(gid, &s.ann.1, "secret.png", PNG).await;
    for path in [
        format!("/v1/groups/{gid}/files/{fid}"),
        format!("/v1/groups/{gid}/files/{fid}/content"),
        format!("/v1/groups/{other}/files/{fid}"),
        format!("/v1/groups/{other}/files/{fid}/content"),
    ] {
        let (status, _) = api.get(&path, &eve).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "eve, outside the group: {path}"
        );
    }
    // Ben is in the group but sees no message showing it.
    let (status, body) = api
        .get(&format!("/v1/groups/{gid}/files/{fid}/content"), &s.ben.1)
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "file_not_found")
    );
    // Eve cannot upload into a group she is not in, nor see its usage.
    let (status, _) = api.upload(gid, &eve, "x.txt", b"x".to_vec()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api
        .get(&format!("/v1/groups/{gid}/files/usage"), &eve)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Members see no usage; the owner does.
    let (status, _) = api
        .get(&format!("/v1/groups/{gid}/files/usage"), &s.ann.1)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, usage) = api
        .get(&format!("/v1/groups/{gid}/files/usage"), &s.owner.1)
        .await;
    assert_eq!(status, StatusCode::OK, "{usage}");
    assert_eq!(usage["used_bytes"], PNG.len());
    assert_eq!(usage["members"]["files"], 1);
    // An app cannot read a file nobody gave it.
    let answer = api.answer(gid, &s.ann.1, &format!("/readback {fid}")).await;
    assert!(answer.starts_with("not-found"), "{answer}");
    // Nor show it in a message.
    let answer = api.answer(gid, &s.ann.1, &format!("/show {fid}")).await;
    assert!(answer.starts_with("invalid"), "{answer}");
}

async fn an_app_without_the_files_grant_is_denied(backend: Backend) {
    let Some(s) = setup(backend, &[], &["messaging", "storage"]).await else {
        return;
    };
    let (api, gid) = (&s.api, s.gid.as_str());
    let answer = api.answer(gid, &s.ann.1, "/mkbig 10").await;
    assert!(answer.starts_with("denied"), "{answer}");
    let (status, usage) = api
        .get(&format!("/v1/groups/{gid}/files/usage"), &s.owner.1)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(usage["file_count"], 0, "{usage}");
}

async fn an_app_that_writes_a_file_and_traps_leaves_no_file_and_no_bytes(backend: Backend) {
    let Some(s) = setup(backend, &[], ALL).await else {
        return;
    };
    let (api, gid) = (&s.api, s.gid.as_str());
    let (status, body) = api.say(gid, &s.ann.1, "/mktrap").await;
    assert!(status.is_server_error(), "{status} {body}");
    let (_, usage) = api
        .get(&format!("/v1/groups/{gid}/files/usage"), &s.owner.1)
        .await;
    assert_eq!(usage["file_count"], 0, "no file row: {usage}");
    // Its staged bytes are removed once the attempt ends.
    let mut left = Vec::new();
    for _ in 0..100 {
        left = s.bytes.objects("staging").await;
        left.extend(s.bytes.objects("blobs").await);
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(left.is_empty(), "bytes left behind: {left:?}");
    // A file that commits is there, once.
    let answer = api.answer(gid, &s.ann.1, "/mkfile kept.txt 1000").await;
    assert!(answer.starts_with("made "), "{answer}");
    assert_eq!(s.bytes.objects("blobs").await.len(), 1);
}

async fn files_over_the_limit_and_groups_over_their_quota_get_named_errors(backend: Backend) {
    let args = ["--file-mib", "1", "--group-files-mib", "2"];
    let Some(s) = setup(backend, &args, ALL).await else {
        return;
    };
    let (api, gid) = (&s.api, s.gid.as_str());
    let (status, body) = api
        .upload(gid, &s.ann.1, "big.bin", vec![7; 1_100_000])
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "file_too_large")
    );
    let answer = api.answer(gid, &s.ann.1, "/mkbig 1100000").await;
    assert!(answer.starts_with("invalid: file_too_large"), "{answer}");
    // 2 MiB for the group: two files of 0.9 MiB fit, a third does not.
    for i in 0..2 {
        let (status, body) = api
            .upload(gid, &s.ann.1, "part.bin", vec![i; 900_000])
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) = api
        .upload(gid, &s.ann.1, "part.bin", vec![9; 900_000])
        .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, "group_file_quota")
    );
    let answer = api.answer(gid, &s.ann.1, "/mkbig 900000").await;
    assert!(
        answer.starts_with("quota-exceeded: group_file_quota"),
        "{answer}"
    );
}

async fn html_is_served_as_an_attachment_and_ranges_work(backend: Backend) {
    let Some(s) = setup(backend, &[], ALL).await else {
        return;
    };
    let (api, gid) = (&s.api, s.gid.as_str());
    let html = b"<html><body><script>alert(document.cookie)</script></body></html>";
    // Whatever the client claims, the type is read from the bytes.
    let response = api
        .client
        .post(format!("{}/v1/groups/{gid}/files", api.base))
        .query(&[("name", "page.png")])
        .bearer_auth(&s.ann.1)
        .header("content-type", "image/png")
        .body(html.to_vec())
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), StatusCode::CREATED);
    let meta: Value = response.json().await.expect("json");
    assert_ne!(meta["content_type"], "image/png", "{meta}");
    assert_eq!(meta["inline"], false);
    let fid = meta["id"].as_str().expect("id");
    let response = api.download(gid, fid, &s.ann.1).await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(headers["content-type"], "application/octet-stream");
    assert!(
        headers["content-disposition"]
            .to_str()
            .expect("ascii")
            .starts_with("attachment;"),
        "{headers:?}"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .expect("csp")
            .contains("sandbox")
    );
    // Range requests: a part, and past the end.
    let response = api
        .client
        .get(format!("{}/v1/groups/{gid}/files/{fid}/content", api.base))
        .bearer_auth(&s.ann.1)
        .header("range", "bytes=6-11")
        .send()
        .await
        .expect("range");
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        response.headers()["content-range"],
        format!("bytes 6-11/{}", html.len()).as_str()
    );
    assert_eq!(response.bytes().await.expect("bytes").as_ref(), b"<body>");
    let response = api
        .client
        .get(format!("{}/v1/groups/{gid}/files/{fid}/content", api.base))
        .bearer_auth(&s.ann.1)
        .header("range", "bytes=5000-")
        .send()
        .await
        .expect("range");
    assert_eq!(response.status(), StatusCode::RANGE_NOT_SATISFIABLE);
}

async fn equal_bytes_are_stored_once_and_deleted_files_show_as_deleted(backend: Backend) {
    let Some(s) = setup(backend, &[], ALL).await else {
        return;
    };
    let (api, gid) = (&s.api, s.gid.as_str());
    let a = api.uploaded(gid, &s.ann.1, "a.png", PNG).await;
    let b = api.uploaded(gid, &s.ben.1, "b.png", PNG).await;
    assert_ne!(a, b, "two files");
    assert_eq!(
        s.bytes.objects("blobs").await.len(),
        1,
        "one copy of equal bytes"
    );
    // The app's own PNG has the same bytes too: still one copy.
    let answer = api.answer(gid, &s.ann.1, "/mkpng").await;
    assert!(answer.ends_with("image/png"), "{answer}");
    assert_eq!(s.bytes.objects("blobs").await.len(), 1);
    let made = answer.split_whitespace().nth(1).expect("id").to_string();
    let (_, timeline) = api
        .get(&format!("/v1/groups/{gid}/messages"), &s.ben.1)
        .await;
    let image = timeline
        .as_array()
        .expect("timeline")
        .iter()
        .flat_map(|m| m["blocks"].as_array().cloned().unwrap_or_default())
        .find(|b| b["type"] == "image")
        .expect("the app's image block");
    assert_eq!(image["file"]["id"], json!(made));
    assert_eq!(image["alt"], "a dot");
    // Ben sees the app's message, so he may download its image.
    assert_eq!(
        api.download(gid, &made, &s.ben.1).await.status(),
        StatusCode::OK
    );
    // The app deletes it: the message shows it deleted, the bytes stay for
    // the members' files that share them.
    let answer = api.answer(gid, &s.ann.1, &format!("/rm {made}")).await;
    assert_eq!(answer, "Ok(true)");
    let (_, timeline) = api
        .get(&format!("/v1/groups/{gid}/messages"), &s.ben.1)
        .await;
    let image = timeline
        .as_array()
        .expect("timeline")
        .iter()
        .flat_map(|m| m["blocks"].as_array().cloned().unwrap_or_default())
        .find(|b| b["type"] == "image")
        .expect("the image block");
    assert_eq!(image["file"]["deleted"], true, "{image}");
    // File creation and deletion are in the app's audit summary.
    let (status, audit) = api
        .get(&format!("/v1/admin/audit?group={gid}&limit=100"), ADMIN)
        .await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let audit = audit.to_string();
    assert!(audit.contains("files.finish"), "{audit}");
    assert!(audit.contains("files.delete"), "{audit}");
    assert_eq!(
        api.download(gid, &made, &s.ben.1).await.status(),
        StatusCode::NOT_FOUND
    );
    let response = api.download(gid, &a, &s.ann.1).await;
    assert_eq!(response.bytes().await.expect("bytes").as_ref(), PNG);
    // Members delete their own uploads; not someone else's they can see
    // (403), nor one they cannot (404). Equal bytes stay for the other file.
    let (status, body) = api
        .post(
            &format!("/v1/groups/{gid}/messages"),
            &s.ann.1,
            json!({"files": [a]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(api.delete(gid, &a, &s.ben.1).await, StatusCode::FORBIDDEN);
    assert_eq!(api.delete(gid, &b, &s.ann.1).await, StatusCode::NOT_FOUND);
    assert_eq!(api.delete(gid, &a, &s.ann.1).await, StatusCode::NO_CONTENT);
    assert_eq!(
        api.download(gid, &a, &s.ann.1).await.status(),
        StatusCode::NOT_FOUND
    );
    let response = api.download(gid, &b, &s.ben.1).await;
    assert_eq!(response.bytes().await.expect("bytes").as_ref(), PNG);
    // The owner may delete any file of the group.
    assert_eq!(
        api.delete(gid, &b, &s.owner.1).await,
        StatusCode::NO_CONTENT
    );
}

async fn the_sweep_removes_what_nothing_uses_and_keeps_the_rest(backend: Backend) {
    // The sweep runs in this process over the server's database and its
    // file directory, with the clock two days ahead.
    let Some(s) = setup_with(backend, &[], ALL, false).await else {
        return;
    };
    let (api, gid) = (&s.api, s.gid.as_str());
    let Bytes::Local(root) = &s.bytes else {
        unreachable!("a local file directory");
    };
    let unused = api
        .uploaded(gid, &s.ann.1, "never sent.txt", b"chosen, never sent")
        .await;
    let sent = api
        .uploaded(gid, &s.ann.1, "sent.txt", b"attached to a message")
        .await;
    let (status, body) = api
        .post(
            &format!("/v1/groups/{gid}/messages"),
            &s.ann.1,
            json!({"files": [sent]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let answer = api.answer(gid, &s.ann.1, "/mkfile kept.txt 100").await;
    assert!(answer.starts_with("made "), "{answer}");
    // What a crash leaves: staged bytes, and stored bytes whose commit never happened.
    std::fs::create_dir_all(root.join("staging")).expect("staging dir");
    std::fs::write(root.join("staging/crashed-upload"), b"half an upload").expect("staged");
    std::fs::write(root.join("blobs").join("0".repeat(64)), b"never committed").expect("orphan");
    assert_eq!(s.bytes.objects("blobs").await.len(), 4);

    let store = qun_host::Store::connect(&s._db.url)
        .await
        .expect("the server's database")
        .with_blobs(qun_host::blobs::Blobs::local(root).expect("the server's files"));
    let later = qun_host::store::now_ms() + 2 * 86_400_000;
    let report = store.sweep_files(later).await.expect("sweep");
    assert_eq!(
        (report.uploads, report.staged, report.orphans),
        (1, 1, 1),
        "{report:?}"
    );
    // The unused upload's bytes go in the same sweep or the next.
    let report = store.sweep_files(later).await.expect("sweep again");
    assert_eq!(report.uploads, 0, "{report:?}");
    assert_eq!(s.bytes.objects("staging").await, Vec::<String>::new());
    assert_eq!(
        s.bytes.objects("blobs").await.len(),
        2,
        "the sent file and the app's"
    );
    assert_eq!(
        api.download(gid, &unused, &s.ann.1).await.status(),
        StatusCode::NOT_FOUND
    );
    let response = api.download(gid, &sent, &s.ben.1).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.bytes().await.expect("bytes").as_ref(),
        b"attached to a message"
    );
}
