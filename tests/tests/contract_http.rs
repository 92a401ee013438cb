//! `qun:app@0.2.0` over real HTTP against the real `qun` binary (issue 13):
//! forms checked by the host before the app runs, typed commands, clicks by
//! reference (forged ones refused), private replies seen by their member
//! alone, and updated/deleted cards and direct messages on the right streams.
//! The app is `asker` (tests/components/apps/asker), a raw 0.2 component
//! that logs everything it is handed, so "the app never ran" is checked by
//! asking it.

mod events_common;
mod server_common;

use std::time::Duration;

use futures::StreamExt;
use qun_tests::{Backend, TestDb, backend_tests};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use server_common::Server;
use tokio::sync::mpsc;

backend_tests!(
    forms_refuse_bad_values_before_the_app_runs,
    field_errors_and_form_chains,
    typed_commands_parse_refuse_and_open_their_form,
    forged_element_references_are_refused,
    private_replies_are_seen_by_their_member_alone,
    updates_deletes_and_direct_messages_reach_the_right_streams,
    a_poll_cards_counts_reach_another_members_stream,
    homework_is_set_handed_in_and_graded_through_forms_over_http,
);

const ADMIN: &str = "contract-http-admin-token";

/// A small client for one server.
struct Api {
    client: Client,
    base: String,
}

/// One server-sent event.
#[derive(Debug, Clone)]
struct Sse {
    event: String,
    id: Option<i64>,
    data: Value,
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

    /// Create a user as the admin; returns (id, token).
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

    /// A group owned by `owner` with `members` in it; its id.
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

    /// Register, upload and approve `asker` as `dev` (once per server).
    async fn publish_asker(&self, dev: &str) {
        self.publish(dev, "asker", qun_components::ASKER).await;
    }

    /// Register, upload and approve the component at `path` as `slug`; the
    /// capabilities it asks for.
    async fn publish(&self, dev: &str, slug: &str, path: &str) -> Value {
        let (status, body) = self
            .post("/v1/apps", dev, json!({"slug": slug, "name": slug}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let response = self
            .client
            .post(format!("{}/v1/apps/{slug}/versions", self.base))
            .bearer_auth(dev)
            .header("content-type", "application/wasm")
            .body(qun_components::read(path))
            .send()
            .await
            .expect("upload");
        let status = response.status();
        let version: Value = response.json().await.expect("version json");
        assert_eq!(status, StatusCode::CREATED, "{version}");
        let (status, body) = self
            .post(
                &format!(
                    "/v1/admin/apps/{slug}/versions/{}/approve",
                    version["version"].as_str().expect("version")
                ),
                ADMIN,
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        version["capabilities"].clone()
    }

    /// Install `asker` in `gid` with everything it asks for.
    async fn install_asker(&self, gid: &str, owner: &str) {
        let (status, body) = self
            .post(
                &format!("/v1/groups/{gid}/apps"),
                owner,
                json!({"app": "asker", "grants": ["messaging", "storage"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// Run one of asker's actions through the action API; its JSON answer.
    async fn action(&self, gid: &str, token: &str, name: &str, payload: Value) -> Value {
        let (status, body) = self
            .post(
                &format!("/v1/groups/{gid}/apps/asker/actions/{name}"),
                token,
                payload,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{name}: {body}");
        body
    }

    /// Everything asker was handed, in order.
    async fn log(&self, gid: &str, token: &str) -> Vec<Value> {
        self.action(gid, token, "log", json!({}))
            .await
            .as_array()
            .cloned()
            .expect("the log is a list")
    }

    /// Post `text` to `gid`.
    async fn say(&self, gid: &str, token: &str, text: &str) -> (StatusCode, Value) {
        self.post(
            &format!("/v1/groups/{gid}/messages"),
            token,
            json!({"text": text}),
        )
        .await
    }

    /// Follow a group's stream (live only); events arrive in order.
    async fn follow(&self, gid: &str, token: &str) -> mpsc::UnboundedReceiver<Sse> {
        let response = self
            .client
            .get(format!("{}/v1/groups/{gid}/stream", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("stream");
        assert_eq!(response.status(), StatusCode::OK);
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut bytes = response.bytes_stream();
            let mut buffer = String::new();
            while let Some(Ok(chunk)) = bytes.next().await {
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buffer.find("\n\n") {
                    let block: String = buffer.drain(..end + 2).collect();
                    let (mut event, mut id, mut data) =
                        ("message".to_string(), None, String::new());
                    for line in block.lines() {
                        if let Some(v) = line.strip_prefix("event:") {
                            event = v.trim().to_string();
                        } else if let Some(v) = line.strip_prefix("id:") {
                            id = v.trim().parse::<i64>().ok();
                        } else if let Some(v) = line.strip_prefix("data:") {
                            data.push_str(v.trim_start());
                        }
                    }
                    let Ok(data) = serde_json::from_str::<Value>(&data) else {
                        continue; // a keep-alive comment
                    };
                    if tx.send(Sse { event, id, data }).is_err() {
                        return;
                    }
                }
            }
        });
        // The response head comes after the stream joined its group's feed:
        // everything from here on reaches it.
        rx
    }
}

/// The next event, or a panic naming what was awaited (a hang guard, not a
/// timing assertion).
async fn next_event(rx: &mut mpsc::UnboundedReceiver<Sse>, what: &str) -> Sse {
    tokio::time::timeout(Duration::from_secs(60), rx.recv())
        .await
        .unwrap_or_else(|_| panic!("the stream did not deliver {what}"))
        .unwrap_or_else(|| panic!("the stream ended before {what}"))
}

/// A server with `asker` published, a group with an owner and two members
/// (`ann`, `ben`) and asker installed.
struct Setup {
    _db: TestDb,
    _server: Server,
    api: Api,
    gid: String,
    owner: (String, String),
    ann: (String, String),
    ben: (String, String),
    dev: String,
}

async fn setup(backend: Backend) -> Option<Setup> {
    let db = TestDb::new(backend).await?;
    let server = Server::start(&db.url, ADMIN);
    let api = Api {
        client: Client::new(),
        base: server.base.clone(),
    };
    let (_, dev) = api.user("dev", true).await;
    let owner = api.user("owner", false).await;
    let ann = api.user("ann", false).await;
    let ben = api.user("ben", false).await;
    let gid = api.group(&owner.1, &[&ann.0, &ben.0]).await;
    api.publish_asker(&dev).await;
    api.install_asker(&gid, &owner.1).await;
    Some(Setup {
        _db: db,
        _server: server,
        api,
        gid,
        owner,
        ann,
        ben,
        dev,
    })
}

/// Good values for every input of asker's form, `who` picking `member`.
fn good_values(member: &str) -> serde_json::Map<String, Value> {
    let values = json!({
        "title": "Field trip",
        "count": 3,
        "price": "12.50",
        "day": "2030-06-01",
        "at": "2030-06-01T09:00",
        "color": "red",
        "tags": ["a", "c"],
        "who": member,
        "agree": true,
    });
    values.as_object().cloned().expect("an object")
}

/// The ids of the fields an `invalid_form` names.
fn fields(body: &Value) -> Vec<String> {
    let mut names: Vec<String> = body["error"]["fields"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|e| e["input"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

async fn forms_refuse_bad_values_before_the_app_runs(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    let (api, gid) = (&s.api, &s.gid);
    let (status, posted) = api.say(gid, &s.ann.1, "/ask").await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    assert_eq!(posted["response"]["type"], "form", "{posted}");
    let form = &posted["response"]["form"];
    let fid = form["id"].as_str().expect("form id").to_string();
    let kinds: Vec<&str> = form["blocks"]
        .as_array()
        .expect("blocks")
        .iter()
        .filter(|b| b["type"] == "input")
        .filter_map(|b| b["input"]["kind"]["type"].as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "text",
            "number",
            "number",
            "date",
            "date_time",
            "choice",
            "choice",
            "member",
            "checkbox"
        ],
        "{form}"
    );
    assert!(
        !form.to_string().contains("opened"),
        "the form's state never leaves the server: {form}"
    );
    let path = format!("/v1/groups/{gid}/forms/{fid}");
    let (status, shown) = api.get(&path, &s.ann.1).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["id"], json!(fid));
    // Only the member it was opened for sees or submits it.
    let (status, body) = api.get(&path, &s.ben.1).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("form_not_found"))
    );
    let (status, _) = api
        .post(&path, &s.ben.1, json!({"values": good_values(&s.ben.0)}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A stranger: a user in no group of ours.
    let (stranger, _) = api.user("stranger", false).await;
    let bad: [(&str, Value); 12] = [
        ("title", json!("ab")),
        ("title", json!("x".repeat(21))),
        ("count", json!(11)),
        ("count", json!("2.5")),
        ("price", json!("1.234")),
        ("day", json!("2031-01-01")),
        ("at", json!("half past nine")),
        ("color", json!("blue")),
        ("tags", json!(["a", "z"])),
        ("who", json!(stranger)),
        ("agree", json!(false)),
        ("agree", json!("yes please")),
    ];
    for (input, value) in &bad {
        let mut values = good_values(&s.ben.0);
        values.insert(input.to_string(), value.clone());
        let (status, body) = api.post(&path, &s.ann.1, json!({"values": values})).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_form")),
            "{input} = {value}: {body}"
        );
        assert_eq!(
            fields(&body),
            [input.to_string()],
            "{input} = {value}: {body}"
        );
    }
    // Every field wrong at once: each is named.
    let values: serde_json::Map<String, Value> = bad
        .iter()
        .map(|(input, value)| (input.to_string(), value.clone()))
        .collect();
    let (status, body) = api.post(&path, &s.ann.1, json!({"values": values})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        fields(&body),
        [
            "agree", "at", "color", "count", "day", "price", "tags", "title", "who"
        ]
    );
    // Required inputs left out are named too.
    let (status, body) = api.post(&path, &s.ann.1, json!({"values": {}})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body).len(), 9, "{body}");
    // None of that reached the app.
    assert_eq!(api.log(gid, &s.ann.1).await, Vec::<Value>::new());

    // Good values: the app receives them typed, and answers privately.
    let (status, done) = api
        .post(&path, &s.ann.1, json!({"values": good_values(&s.ben.0)}))
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["response"]["type"], "private", "{done}");
    assert_eq!(done["response"]["message"]["visible_to"], json!(s.ann.0));
    let log = api.log(gid, &s.ann.1).await;
    assert_eq!(log.len(), 1, "{log:?}");
    let values = &log[0]["values"];
    assert_eq!(log[0]["callback"], "ask");
    assert_eq!(log[0]["step"], 1);
    assert_eq!(values["title"], json!({"text": "Field trip"}));
    assert_eq!(values["count"], json!({"integer": 3}));
    assert_eq!(values["price"], json!({"decimal": "12.5"}));
    assert_eq!(values["day"], json!({"date": [2030, 6, 1]}));
    assert!(values["at"]["date_time"].is_i64(), "{values}");
    assert_eq!(values["color"], json!({"choices": ["red"]}));
    assert_eq!(values["tags"], json!({"choices": ["a", "c"]}));
    assert_eq!(values["who"], json!({"member": s.ben.0}));
    assert_eq!(values["agree"], json!({"checkbox": true}));
    // Submitted: closed for good.
    let (status, body) = api.get(&path, &s.ann.1).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::GONE, Some("form_closed"))
    );
    let (status, _) = api
        .post(&path, &s.ann.1, json!({"values": good_values(&s.ben.0)}))
        .await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(api.log(gid, &s.ann.1).await.len(), 1);
}

async fn field_errors_and_form_chains(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    let (api, gid) = (&s.api, &s.gid);
    // The app's own field errors: 422 naming its field; the form stays open.
    let (_, posted) = api.say(gid, &s.ann.1, "/ask strict").await;
    let fid = posted["response"]["form"]["id"]
        .as_str()
        .expect("form")
        .to_string();
    let path = format!("/v1/groups/{gid}/forms/{fid}");
    let (status, body) = api
        .post(&path, &s.ann.1, json!({"values": good_values(&s.ann.0)}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "invalid_form");
    assert_eq!(body["error"]["fields"][0]["input"], "title");
    assert_eq!(body["error"]["fields"][0]["message"], "that title is taken");
    let (status, _) = api.get(&path, &s.ann.1).await;
    assert_eq!(status, StatusCode::OK, "the form stays open");
    assert_eq!(api.log(gid, &s.ann.1).await.len(), 1);

    // A chain: each submission opens the next form, up to the limit.
    let (_, posted) = api.say(gid, &s.ann.1, "/ask chain").await;
    let mut fid = posted["response"]["form"]["id"]
        .as_str()
        .expect("form")
        .to_string();
    let mut steps = Vec::new();
    let refused = loop {
        let (status, body) = api
            .post(
                &format!("/v1/groups/{gid}/forms/{fid}"),
                &s.ann.1,
                json!({"values": good_values(&s.ann.0)}),
            )
            .await;
        if status != StatusCode::OK {
            break (status, body);
        }
        assert_eq!(body["response"]["type"], "form", "{body}");
        steps.push(body["response"]["form"]["step"].as_i64().expect("step"));
        fid = body["response"]["form"]["id"]
            .as_str()
            .expect("next form")
            .to_string();
        assert!(steps.len() < 10, "the chain never ended: {steps:?}");
    };
    assert_eq!(steps, [2, 3, 4, 5]);
    assert_eq!(
        (refused.0, refused.1["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("too_many_steps")),
        "{}",
        refused.1
    );
    let chain: Vec<i64> = api
        .log(gid, &s.ann.1)
        .await
        .iter()
        .filter(|l| l["callback"] == "chain")
        .filter_map(|l| l["step"].as_i64())
        .collect();
    // The fifth step's answer (a sixth form) was refused whole: nothing it
    // did was kept.
    assert_eq!(chain, [1, 2, 3, 4]);
}

async fn typed_commands_parse_refuse_and_open_their_form(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    let (api, gid) = (&s.api, &s.gid);
    // A value that does not parse: refused naming the option; nothing stored, nothing run.
    let (_, before) = api
        .get(&format!("/v1/groups/{gid}/messages"), &s.ann.1)
        .await;
    let (status, body) = api.say(gid, &s.ann.1, "/book Hike | abc").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_option")),
        "{body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("seats")),
        "{body}"
    );
    let (_, after) = api
        .get(&format!("/v1/groups/{gid}/messages"), &s.ann.1)
        .await;
    assert_eq!(before, after, "nothing was stored");
    assert_eq!(api.log(gid, &s.ann.1).await, Vec::<Value>::new());

    // Complete: the app gets typed options and posts.
    let (status, body) = api.say(gid, &s.ann.1, "/book Hike | 3").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["response"]["type"], "post", "{body}");
    assert_eq!(body["response"]["message"]["text"], "booked Hike for 3");
    assert_eq!(body["messages"][1]["text"], "booked Hike for 3", "{body}");
    // Dates the way people type them, in the group's time zone (UTC here).
    let (status, body) = api
        .say(gid, &s.ann.1, "/book Hike | 4 | 2030-06-01 09:00")
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["response"]["message"]["text"],
        "booked Hike for 4 at 1906534800000"
    );

    // A required option missing: the command's form, pre-filled.
    let (status, body) = api.say(gid, &s.ann.1, "/book Picnic").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["response"]["type"], "form", "{body}");
    let form = &body["response"]["form"];
    let title = form["blocks"]
        .as_array()
        .expect("blocks")
        .iter()
        .find(|b| b["input"]["id"] == "title")
        .expect("a title input");
    assert_eq!(title["input"]["kind"]["initial"], "Picnic", "{form}");
    let fid = form["id"].as_str().expect("form id");
    let (status, done) = api
        .post(
            &format!("/v1/groups/{gid}/forms/{fid}"),
            &s.ann.1,
            json!({"values": {"title": "Picnic", "seats": "0"}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{done}");
    assert_eq!(fields(&done), ["seats"]);
    let (status, done) = api
        .post(
            &format!("/v1/groups/{gid}/forms/{fid}"),
            &s.ann.1,
            json!({"values": {"title": "Picnic", "seats": 7}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["response"]["message"]["text"], "booked Picnic for 7");
    let books: Vec<Value> = api
        .log(gid, &s.ann.1)
        .await
        .into_iter()
        .filter(|l| l["command"] == "book")
        .map(|l| l["options"]["seats"].clone())
        .collect();
    assert_eq!(
        books,
        [
            json!({"integer": 3}),
            json!({"integer": 4}),
            json!({"integer": 7})
        ]
    );

    // `/help`, generated from the declarations, only for who asked.
    let (status, body) = api.say(gid, &s.ben.1, "/help").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["response"]["type"], "private", "{body}");
    let help = body["response"]["message"].to_string();
    assert!(help.contains("/book") && help.contains("seats"), "{help}");
    let help_id = body["response"]["message"]["id"].as_i64().expect("id");
    let (status, _) = api
        .get(&format!("/v1/groups/{gid}/messages/{help_id}"), &s.ann.1)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Every element ref of a message view, in order.
fn refs(message: &Value) -> Vec<String> {
    message["blocks"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["ref"].as_str().map(str::to_string))
        .collect()
}

async fn forged_element_references_are_refused(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    let (api, gid) = (&s.api, &s.gid);
    let card = api.action(gid, &s.ann.1, "card", json!({})).await;
    let mid = card["id"].as_str().expect("message id").to_string();
    let (status, message) = api
        .get(&format!("/v1/groups/{gid}/messages/{mid}"), &s.ben.1)
        .await;
    assert_eq!(status, StatusCode::OK, "{message}");
    let text = message.to_string();
    assert!(
        !text.contains("\"n\""),
        "no payload reaches a client: {text}"
    );
    let [button, select, picker] = <[String; 3]>::try_from(refs(&message)).expect("three refs");
    let click = |mid: &str, reference: &str| {
        format!("/v1/groups/{gid}/messages/{mid}/elements/{reference}")
    };

    // A real click runs the action with the stored payload.
    let (status, body) = api.post(&click(&mid, &button), &s.ben.1, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"], json!({"clicked": true}));
    assert_eq!(body["response"]["type"], "private");
    assert_eq!(body["response"]["message"]["visible_to"], json!(s.ben.0));
    assert_eq!(body["message"]["id"].as_i64(), mid.parse::<i64>().ok());
    let (status, body) = api
        .post(&click(&mid, &select), &s.ben.1, json!({"value": "y"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = api
        .post(&click(&mid, &picker), &s.ben.1, json!({"value": s.ann.0}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let log = api.log(gid, &s.ann.1).await;
    assert_eq!(log.len(), 3, "{log:?}");
    assert_eq!(log[0]["click"], json!({"n": 1}));
    assert_eq!(log[0]["message_id"], json!(mid));
    assert_eq!(log[1]["click"], json!({"n": 2}));
    assert_eq!(log[1]["value"], json!({"choices": ["y"]}));
    assert_eq!(log[2]["value"], json!({"member": s.ann.0}));

    // Values the element does not offer are refused before the app runs.
    let (status, body) = api
        .post(&click(&mid, &select), &s.ben.1, json!({"value": "z"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (stranger, _) = api.user("stranger", false).await;
    let (status, body) = api
        .post(&click(&mid, &picker), &s.ben.1, json!({"value": stranger}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Forged references: another message's, another group's, a made-up one.
    let other = api.action(gid, &s.ann.1, "card", json!({})).await;
    let other_mid = other["id"].as_str().expect("id").to_string();
    let (_, other_message) = api
        .get(&format!("/v1/groups/{gid}/messages/{other_mid}"), &s.ann.1)
        .await;
    let other_ref = refs(&other_message)[0].clone();
    let (_, bob) = api.user("bob", false).await;
    let gid2 = api.group(&bob, &[&s.ben.0]).await;
    api.install_asker(&gid2, &bob).await;
    let foreign = api.action(&gid2, &bob, "card", json!({})).await;
    let foreign_mid = foreign["id"].as_str().expect("id").to_string();
    let (_, foreign_message) = api
        .get(&format!("/v1/groups/{gid2}/messages/{foreign_mid}"), &bob)
        .await;
    let foreign_ref = refs(&foreign_message)[0].clone();
    let forged = [
        click(&mid, &other_ref),
        click(&mid, &foreign_ref),
        click(&foreign_mid, &foreign_ref),
        click(&mid, "00000000000000000000000000000000"),
        click(&mid, &format!("{button}0")),
    ];
    for path in &forged {
        let (status, body) = api.post(path, &s.ben.1, json!({})).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("unknown_element")),
            "{path}: {body}"
        );
    }
    assert_eq!(api.log(gid, &s.ann.1).await.len(), 3, "nothing ran");
    assert_eq!(api.log(&gid2, &bob).await.len(), 0, "nothing ran there");
}

async fn private_replies_are_seen_by_their_member_alone(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    let (api, gid) = (&s.api, &s.gid);
    let mut ann_stream = api.follow(gid, &s.ann.1).await;
    let mut ben_stream = api.follow(gid, &s.ben.1).await;
    let whisper = api
        .action(gid, &s.ann.1, "whisper", json!({"text": "for ann only"}))
        .await;
    assert_eq!(whisper, json!({}));
    let (_, public) = api.say(gid, &s.owner.1, "hello everyone").await;
    let public_id = public["messages"][0]["id"].as_i64().expect("id");

    let first = next_event(&mut ann_stream, "ann's private reply").await;
    assert_eq!(first.event, "message");
    assert_eq!(first.data["text"], "for ann only", "{:?}", first.data);
    assert_eq!(first.data["private"], true);
    assert_eq!(first.data["visible_to"], json!(s.ann.0));
    let private_id = first.data["id"].as_i64().expect("id");
    assert_eq!(
        first.id,
        Some(private_id),
        "a message event's id is the message's"
    );
    let second = next_event(&mut ann_stream, "the public message").await;
    assert_eq!(second.data["id"].as_i64(), Some(public_id));
    // Ben's stream skips ann's private reply.
    let ben_first = next_event(&mut ben_stream, "the public message").await;
    assert_eq!(
        ben_first.data["id"].as_i64(),
        Some(public_id),
        "{:?}",
        ben_first
    );

    let timeline = |token: &str| {
        let path = format!("/v1/groups/{gid}/messages");
        let token = token.to_string();
        async move {
            let (_, list) = api.get(&path, &token).await;
            list.as_array()
                .expect("list")
                .iter()
                .filter_map(|m| m["id"].as_i64())
                .collect::<Vec<i64>>()
        }
    };
    assert!(timeline(&s.ann.1).await.contains(&private_id));
    assert!(!timeline(&s.ben.1).await.contains(&private_id));
    assert!(!timeline(&s.owner.1).await.contains(&private_id));
    let one = format!("/v1/groups/{gid}/messages/{private_id}");
    let (status, _) = api.get(&one, &s.ann.1).await;
    assert_eq!(status, StatusCode::OK);
    for token in [&s.ben.1, &s.owner.1] {
        let (status, body) = api.get(&one, token).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }
}

async fn updates_deletes_and_direct_messages_reach_the_right_streams(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    let (api, gid) = (&s.api, &s.gid);
    let card = api.action(gid, &s.ann.1, "card", json!({})).await;
    let mid = card["id"].as_str().expect("id").to_string();
    let (_, before) = api
        .get(&format!("/v1/groups/{gid}/messages/{mid}"), &s.ben.1)
        .await;
    let old_refs = refs(&before);
    let mut ben_stream = api.follow(gid, &s.ben.1).await;
    let mut ann_stream = api.follow(gid, &s.ann.1).await;

    api.action(
        gid,
        &s.ann.1,
        "update",
        json!({"id": mid, "text": "Seats left: 2"}),
    )
    .await;
    let updated = next_event(&mut ben_stream, "the updated card").await;
    assert_eq!(updated.event, "message-updated", "{updated:?}");
    assert_eq!(updated.data["id"].as_i64(), mid.parse().ok());
    assert_eq!(updated.data["blocks"][0]["text"], "Seats left: 2");
    assert!(updated.data["updated_at"].is_i64(), "{:?}", updated.data);
    // Its event id keeps the stream's place in the timeline (the card's own id).
    assert_eq!(updated.id, mid.parse().ok(), "{updated:?}");
    let new_refs = refs(&updated.data);
    assert_eq!(new_refs.len(), 3);
    assert!(new_refs.iter().all(|r| !old_refs.contains(r)));
    // The old references went with the old card.
    let (status, body) = api
        .post(
            &format!("/v1/groups/{gid}/messages/{mid}/elements/{}", old_refs[0]),
            &s.ben.1,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");

    // A direct message reaches its recipient's streams only.
    api.action(gid, &s.ann.1, "dm", json!({"to": s.ben.0, "text": "psst"}))
        .await;
    let direct = next_event(&mut ben_stream, "the direct message").await;
    assert_eq!(direct.event, "direct-message", "{direct:?}");
    assert_eq!(direct.data["text"], "psst");

    // Deleted: the streams say so, and it is gone from the timeline.
    api.action(gid, &s.ann.1, "delete", json!({"id": mid}))
        .await;
    let deleted = next_event(&mut ben_stream, "the deletion").await;
    assert_eq!(deleted.event, "message-deleted", "{deleted:?}");
    assert_eq!(deleted.data["id"].as_i64(), mid.parse().ok());
    let (status, _) = api
        .get(&format!("/v1/groups/{gid}/messages/{mid}"), &s.ben.1)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = api
        .get(&format!("/v1/groups/{gid}/messages"), &s.ben.1)
        .await;
    assert!(
        list.as_array()
            .expect("list")
            .iter()
            .all(|m| m["id"].as_i64() != mid.parse().ok()),
        "{list}"
    );

    // Ann saw the update and the deletion, never ben's direct message.
    let mut seen = Vec::new();
    for what in ["the update", "the deletion"] {
        seen.push(next_event(&mut ann_stream, what).await.event);
    }
    assert_eq!(seen, ["message-updated", "message-deleted"]);
    api.say(gid, &s.owner.1, "the end").await;
    let last = next_event(&mut ann_stream, "the last message").await;
    assert_eq!(
        (last.event.as_str(), &last.data["text"]),
        ("message", &json!("the end"))
    );
}

/// The `value` of the field named `name` in a message view's blocks.
fn field_value(message: &Value, name: &str) -> Option<String> {
    message["blocks"]
        .as_array()?
        .iter()
        .flat_map(|b| b["fields"].as_array().cloned().unwrap_or_default())
        .find(|f| f["name"] == name)
        .and_then(|f| f["value"].as_str().map(str::to_string))
}

async fn a_poll_cards_counts_reach_another_members_stream(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    let (api, gid) = (&s.api, &s.gid);
    let capabilities = api.publish(&s.dev, "polls", qun_tests::polls()).await;
    let (status, body) = api
        .post(
            &format!("/v1/groups/{gid}/apps"),
            &s.owner.1,
            json!({"app": "polls", "grants": capabilities}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut ben_stream = api.follow(gid, &s.ben.1).await;
    let (status, posted) = api
        .say(gid, &s.ann.1, "/poll Lunch? | noodles, dumplings, rice")
        .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    let card = posted["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .find(|m| m["blocks"][0]["text"] == "Lunch?")
        .cloned()
        .unwrap_or_else(|| panic!("no poll card in {posted}"));
    let card_id = card["id"].as_i64().expect("card id");
    let dumplings = refs(&card)[1].clone();
    // Ben sees the card arrive.
    loop {
        let event = next_event(&mut ben_stream, "the poll card").await;
        if event.event == "message" && event.data["id"].as_i64() == Some(card_id) {
            assert_eq!(
                field_value(&event.data, "dumplings").as_deref(),
                Some("0 votes")
            );
            break;
        }
    }
    // Ann votes by clicking the card; ben's stream shows the new count.
    let (status, body) = api
        .post(
            &format!("/v1/groups/{gid}/messages/{card_id}/elements/{dumplings}"),
            &s.ann.1,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let updated = loop {
        let event = next_event(&mut ben_stream, "the updated poll card").await;
        if event.event == "message-updated" && event.data["id"].as_i64() == Some(card_id) {
            break event.data;
        }
    };
    let count = field_value(&updated, "dumplings").unwrap_or_default();
    assert!(count.starts_with('1'), "{updated}");
    assert_eq!(field_value(&updated, "noodles").as_deref(), Some("0 votes"));
}

/// The reference of the button labelled `label` (any letter case) in a message view.
fn button(message: &Value, label: &str) -> String {
    message["blocks"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .find(|e| {
            e["label"]
                .as_str()
                .is_some_and(|l| l.eq_ignore_ascii_case(label))
        })
        .and_then(|e| e["ref"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("no button {label:?} on {message}"))
}

async fn homework_is_set_handed_in_and_graded_through_forms_over_http(backend: Backend) {
    let Some(s) = setup(backend).await else {
        return;
    };
    let (api, gid) = (&s.api, &s.gid);
    let homework = qun_components::plugin("homework").expect("the homework plugin is built");
    let capabilities = api.publish(&s.dev, "homework", homework).await;
    let (status, body) = api
        .post(
            &format!("/v1/groups/{gid}/apps"),
            &s.owner.1,
            json!({"app": "homework", "grants": capabilities}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (teacher, sam, sue) = (&s.owner, &s.ann, &s.ben);
    let form_path = |body: &Value| {
        format!(
            "/v1/groups/{gid}/forms/{}",
            body["response"]["form"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("no form in {body}"))
        )
    };

    // The teacher sets homework through its form; the host refuses a bad date first.
    let (status, opened) = api.say(gid, &teacher.1, "/homework").await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let set_form = form_path(&opened);
    let (status, body) = api
        .post(
            &set_form,
            &teacher.1,
            json!({"values": {"title": "Essay", "due": "someday"}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["due"]);
    let (status, set) = api
        .post(
            &set_form,
            &teacher.1,
            json!({"values": {"title": "Essay", "due": events_common::rfc3339_in(30 * 86_400_000), "instructions": "Two pages"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(set["response"]["type"], "post", "{set}");
    let card = set["response"]["message"].clone();
    let card_id = card["id"].as_i64().expect("card id");
    assert!(
        card["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("Homework #1: Essay")),
        "{card}"
    );
    let click =
        |reference: &str| format!("/v1/groups/{gid}/messages/{card_id}/elements/{reference}");

    // Sam presses "Hand in" on the card and answers in its form.
    let (status, pressed) = api
        .post(&click(&button(&card, "Hand in")), &sam.1, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{pressed}");
    let hand_in = form_path(&pressed);
    let (status, body) = api
        .post(&hand_in, &sam.1, json!({"values": {"answer": ""}}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        fields(&body),
        ["answer", "work"],
        "text or files, at least one"
    );
    let (status, handed) = api
        .post(
            &hand_in,
            &sam.1,
            json!({"values": {"answer": "Rivers flow.\nThe end."}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{handed}");
    assert_eq!(handed["response"]["type"], "private", "{handed}");
    let private_id = handed["response"]["message"]["id"].as_i64().expect("id");
    for (token, sees) in [
        (&sam.1, StatusCode::OK),
        (&sue.1, StatusCode::NOT_FOUND),
        (&teacher.1, StatusCode::NOT_FOUND),
    ] {
        let (status, _) = api
            .get(&format!("/v1/groups/{gid}/messages/{private_id}"), token)
            .await;
        assert_eq!(status, sees);
    }

    // The teacher grades from the card's grading form.
    let (status, pressed) = api
        .post(&click(&button(&card, "Grade")), &teacher.1, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{pressed}");
    let grading = form_path(&pressed);
    let (status, body) = api
        .post(
            &grading,
            &teacher.1,
            json!({"values": {"student": sam.0, "score": 120}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["score"]);
    // Sue handed nothing in: the app says so beside the field.
    let (status, body) = api
        .post(
            &grading,
            &teacher.1,
            json!({"values": {"student": sue.0, "score": 90}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(fields(&body), ["student"]);
    let (status, graded) = api
        .post(
            &grading,
            &teacher.1,
            json!({"values": {"student": sam.0, "score": "95", "feedback": "Well argued"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{graded}");
    let (_, directs) = api.get("/v1/me/direct-messages", &sam.1).await;
    assert!(
        directs
            .as_array()
            .into_iter()
            .flatten()
            .any(|d| d["text"].as_str().is_some_and(|t| t.contains("95/100"))),
        "{directs}"
    );

    // Sue hands in a photo of her work (issue 17): uploaded, chosen in the
    // form's file input, and the teacher sees it among the hand-ins and
    // downloads the same bytes; Sam, who sees no message showing it, gets 404.
    let photo: Vec<u8> = {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend((0..2000u32).map(|i| (i % 251) as u8));
        png
    };
    let response = api
        .client
        .post(format!("{}/v1/groups/{gid}/files", api.base))
        .query(&[("name", "essay page 1.png")])
        .bearer_auth(&sue.1)
        .body(photo.clone())
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), StatusCode::CREATED);
    let uploaded: Value = response.json().await.expect("file json");
    let file_id = uploaded["id"].as_str().expect("file id").to_string();
    // The card as it is now (its buttons' refs change when it is updated).
    let (_, card) = api
        .get(&format!("/v1/groups/{gid}/messages/{card_id}"), &sue.1)
        .await;
    let (status, pressed) = api
        .post(&click(&button(&card, "Hand in")), &sue.1, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{pressed}");
    let (status, handed) = api
        .post(
            &form_path(&pressed),
            &sue.1,
            json!({"values": {"work": [file_id]}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{handed}");
    let (status, listed) = api
        .post(&click(&button(&card, "Hand-ins")), &teacher.1, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let image = listed["response"]["message"]["blocks"]
        .as_array()
        .expect("blocks")
        .iter()
        .find(|b| b["type"] == "image")
        .unwrap_or_else(|| panic!("the teacher sees Sue's photo: {listed}"))
        .clone();
    assert_eq!(image["file"]["id"], json!(file_id));
    let url = image["file"]["url"].as_str().expect("url");
    let download = |token: &str| {
        api.client
            .get(format!("{}{url}", api.base))
            .bearer_auth(token.to_string())
            .send()
    };
    let response = download(&teacher.1).await.expect("download");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.bytes().await.expect("bytes").as_ref(),
        photo.as_slice()
    );
    assert_eq!(
        download(&sam.1).await.expect("download").status(),
        StatusCode::NOT_FOUND
    );
    let (_, stranger) = api.user("stranger-files", false).await;
    assert_eq!(
        download(&stranger).await.expect("download").status(),
        StatusCode::NOT_FOUND
    );
}
