//! Replay (issue 16), against a real `qun serve` on both backends and the
//! real `qun` CLI: an invocation that traps leaves a record (its calls with
//! the host's answers, its clock readings and random seeds); its developer
//! fetches it and replays the same build to the same trap, with the same
//! clock reading and random number, and a fixed build to success; another
//! component is told where it departs from the record. Only the developer
//! and admins read records; reading one is audited; uninstalling removes
//! them; per installation they are throttled and bounded.

mod server_common;

use std::path::Path;
use std::process::Output;

use qun_tests::{Backend, TestDb, backend_tests};
use reqwest::Method;
use serde_json::{Value, json};
use server_common::api::Api;
use server_common::{Server, printed as text, qun_cli as qun};

backend_tests!(
    a_trap_is_recorded_fetched_and_replayed_to_the_same_trap_and_a_fix_to_success,
    records_are_throttled_and_bounded_per_installation,
);

const ADMIN: &str = "replay-admin-token";

/// The JSON report of `qun app replay ... --json`.
fn report(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not a JSON report ({e}): {}", text(output)))
}

/// `qun app replay ID --json --wasm WASM` of the record fetched into `dir`:
/// its report (the run ended as recorded, or succeeded).
fn replay_json(config: &Path, id: &str, dir: &str, wasm: &str) -> Value {
    let out = qun(
        config,
        &[
            "app",
            "replay",
            id,
            "--app",
            "replayable",
            "--dir",
            dir,
            "--json",
            "--wasm",
            wasm,
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    report(&out)
}

/// The stderr line `replayable` wrote: `tally N at NANOS token HEX`.
fn tally_line(log: &Value) -> String {
    log.as_array()
        .expect("log lines")
        .iter()
        .filter_map(|l| l["message"].as_str())
        .flat_map(str::lines)
        .find(|l| l.starts_with("tally "))
        .unwrap_or_else(|| panic!("no tally line in {log}"))
        .to_string()
}

/// A developer's app installed in a group with a member who types `/tally`.
struct Setup {
    api: Api,
    dev: String,
    owner: String,
    member: String,
    group: String,
}

async fn setup(server: &Server) -> Setup {
    let api = Api::new(server, ADMIN);
    let (_, dev) = api.user("dora", true).await;
    let (_, owner) = api.user("olga", false).await;
    let (member_id, member) = api.user("mia", false).await;
    api.upload(&dev, "replayable", qun_components::REPLAYABLE_V1)
        .await;
    api.approve("replayable", "1.0.0").await;
    let group = api.group(&owner, &member_id, "tallies").await;
    api.install(&owner, &group, "replayable", json!(["storage"]))
        .await;
    Setup {
        api,
        dev,
        owner,
        member,
        group,
    }
}

impl Setup {
    /// `/tally` typed by the member: the app traps (502), the answer names
    /// the incident.
    async fn tally_fails(&self) -> String {
        let (status, body) = self
            .api
            .post(
                &format!("/v1/groups/{}/messages", self.group),
                &self.member,
                json!({"text": "/tally"}),
            )
            .await;
        assert_eq!(status, 502, "{body}");
        let message = body["error"]["message"].as_str().expect("message");
        let at = message.find("inc_").expect("an incident id");
        message[at..]
            .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .next()
            .expect("incident")
            .to_string()
    }

    async fn records(&self) -> Vec<Value> {
        let (status, page) = self.api.get("/v1/apps/replayable/replays", &self.dev).await;
        assert_eq!(status, 200, "{page}");
        page["records"].as_array().cloned().expect("records")
    }
}

async fn a_trap_is_recorded_fetched_and_replayed_to_the_same_trap_and_a_fix_to_success(
    backend: Backend,
) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let server = Server::start(&db.url, ADMIN);
    let s = setup(&server).await;
    let incident = s.tally_fails().await;

    // One record, listed for the developer, naming the incident the member saw.
    let records = s.records().await;
    assert_eq!(records.len(), 1, "{records:?}");
    let listed = &records[0];
    assert_eq!(listed["code"], "trap");
    assert_eq!(listed["incident"], incident.as_str());
    assert_eq!(listed["version"], "1.0.0");
    assert_eq!(listed["calls"], 2);
    let id = listed["id"].as_str().expect("id").to_string();

    // Nobody else reads it: not the group's owner, not its member, not
    // another developer; an unknown id is a clear 404.
    let (_, rival) = s.api.user("rita", true).await;
    for (who, token) in [
        ("owner", &s.owner),
        ("member", &s.member),
        ("rival", &rival),
    ] {
        for path in [
            "/v1/apps/replayable/replays".to_string(),
            format!("/v1/apps/replayable/replays/{id}"),
        ] {
            let (status, body) = s.api.get(&path, token).await;
            assert_eq!(status, 403, "{who} {path}: {body}");
        }
    }
    let (status, body) = s
        .api
        .get("/v1/apps/replayable/replays/rp_nope", &s.dev)
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "replay_not_found");

    // The record: the calls with the host's answers, and what the app wrote.
    let (status, record) = s
        .api
        .get(&format!("/v1/apps/replayable/replays/{id}"), &s.dev)
        .await;
    assert_eq!(status, 200, "{record}");
    assert_eq!(record["format"], "qun-replay/1");
    assert_eq!(record["failure"]["code"], "trap");
    let calls: Vec<&str> = record["tape"]["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .map(|c| c["call"].as_str().expect("call"))
        .collect();
    assert_eq!(calls, ["storage.get", "storage.set"]);
    assert_eq!(record["tape"]["calls"][0]["args"], json!(["count"]));
    assert_eq!(record["tape"]["calls"][0]["result"], json!({"Ok": null}));
    assert_eq!(record["call"]["command"]["name"], "tally");
    let recorded_line = tally_line(&record["log"]);
    assert!(recorded_line.starts_with("tally 1 at "), "{recorded_line}");
    // Reading it is audited: who read which record.
    let reads = s.api.audit("replayable", "replay.read").await;
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert_eq!(reads[0]["detail"], id.as_str());
    // An admin may read it too.
    let (status, _) = s
        .api
        .get(&format!("/v1/apps/replayable/replays/{id}"), ADMIN)
        .await;
    assert_eq!(status, 200);

    // The CLI: list, fetch, replay.
    let work = std::env::temp_dir().join(format!("qun-replay-{}", uuid::Uuid::new_v4().simple()));
    let config = work.join("config");
    let app_dir = work.join("app");
    std::fs::create_dir_all(&app_dir).expect("app dir");
    let out = qun(&config, &["login", &server.base, "--token", &s.dev]);
    assert!(out.status.success(), "{}", text(&out));
    let dir = app_dir.to_str().expect("utf-8 path");
    let out = qun(
        &config,
        &["app", "replay", "--app", "replayable", "--dir", dir],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&id) && text(&out).contains("trap"),
        "{}",
        text(&out)
    );
    let out = qun(
        &config,
        &[
            "app",
            "replay",
            &id,
            "--fetch",
            "--app",
            "replayable",
            "--dir",
            dir,
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(app_dir.join(format!(".qun/replays/{id}.json")).is_file());

    // The same build: the same trap, the same clock reading and random
    // number, every call answered from the record.
    let same = replay_json(&config, &id, dir, qun_components::REPLAYABLE_V1);
    assert_eq!(same["same_build"], true, "{same}");
    assert_eq!(same["reproduced"], true, "{same}");
    assert_eq!(same["failure"]["code"], "trap", "{same}");
    assert_eq!(same["failure"], record["failure"], "{same}");
    assert_eq!(same["divergence"], Value::Null, "{same}");
    assert_eq!(
        (same["calls_made"].as_u64(), same["answered"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(tally_line(&same["log"]), recorded_line);

    // The fixed build: it posts what version one crashed on, exactly.
    let fixed = replay_json(&config, &id, dir, qun_components::REPLAYABLE_V2);
    assert_eq!(fixed["same_build"], false, "{fixed}");
    assert_eq!(fixed["failure"], Value::Null, "{fixed}");
    assert_eq!(fixed["divergence"], Value::Null, "{fixed}");
    let posted = fixed["answer"]["response"].to_string();
    assert!(
        posted.contains(&recorded_line),
        "{posted} / {recorded_line}"
    );

    // Another component: the report says where it departs from the record.
    let out = qun(
        &config,
        &[
            "app",
            "replay",
            &id,
            "--app",
            "replayable",
            "--dir",
            dir,
            "--wasm",
            qun_components::NOOP,
        ],
    );
    let said = text(&out);
    println!("{said}");
    assert!(
        said.contains("diverges from the record at call 1"),
        "{said}"
    );
    assert!(said.contains("storage.get(\"count\")"), "{said}");

    // Uninstalling removes the installation's records (they hold group data).
    let (status, body) = s
        .api
        .call(
            Method::DELETE,
            &format!("/v1/groups/{}/apps/replayable", s.group),
            &s.owner,
            None,
        )
        .await;
    assert!(status == 200 || status == 204, "{status} {body}");
    assert!(s.records().await.is_empty());
    let _ = std::fs::remove_dir_all(&work);
}

async fn records_are_throttled_and_bounded_per_installation(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let server = Server::start_with(&db.url, ADMIN, &["--replay-records", "2"]);
    let s = setup(&server).await;
    // Two failures in the same second: one record.
    let first = s.tally_fails().await;
    s.tally_fails().await;
    let records = s.records().await;
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["incident"], first.as_str());
    // Later failures are recorded; only the newest two are kept.
    let mut incidents = Vec::new();
    for _ in 0..2 {
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        incidents.push(s.tally_fails().await);
    }
    let records = s.records().await;
    let kept: Vec<&str> = records
        .iter()
        .map(|r| r["incident"].as_str().expect("incident"))
        .collect();
    incidents.reverse();
    assert_eq!(kept, incidents, "newest first, the oldest dropped");
}
