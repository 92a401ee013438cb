//! Rollouts (issue 16), against a real `qun serve` on both backends: an
//! approved version released to half of ten groups (exactly the ones the
//! rule picks, whose members then get answers from the new version),
//! widened, rolled back by hand; rolled back automatically after injected
//! faults; consent to new capabilities still asked per group; the audit
//! rows of every step; who may not start one; and the CLI.

mod server_common;

use qun_tests::{Backend, TestDb, backend_tests};
use serde_json::{Value, json};
use server_common::api::Api;
use server_common::{Server, printed as text, qun_cli as qun};
use sha2::{Digest, Sha256};

backend_tests!(
    half_of_ten_groups_then_wider_then_rolled_back_by_hand,
    a_faulting_version_is_rolled_back_automatically,
    the_rollback_re_enables_what_the_new_versions_faults_disabled,
    new_capabilities_still_wait_for_each_owners_consent,
    the_cli_starts_widens_shows_and_rolls_back,
);

const ADMIN: &str = "rollouts-admin-token";

/// The version a member of `group` is answered by, over HTTP.
async fn version_seen(api: &Api, group: &Group, slug: &str) -> String {
    let (status, body) = api
        .post(
            &format!("/v1/groups/{}/apps/{slug}/actions/version", group.id),
            &group.member,
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["version"].as_str().expect("version").to_string()
}

/// Wait until every event of `slug` (an installation's `installed`) is
/// delivered: each delivery is an invocation a rollout counts.
async fn settle(api: &Api, dev: &str, slug: &str) {
    for _ in 0..200 {
        let (status, pending) = api
            .get(&format!("/v1/apps/{slug}/events?status=pending"), dev)
            .await;
        assert_eq!(status, 200, "{pending}");
        if pending.as_array().is_some_and(Vec::is_empty) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the events of {slug} were not delivered");
}

/// A group with its owner and a member, where `slug` is installed.
struct Group {
    id: String,
    owner: String,
    member: String,
    installation: String,
}

/// `n` groups, each with an owner and a member, with `slug` installed by the
/// owner with `grants`.
async fn groups(api: &Api, n: usize, slug: &str, grants: Value) -> Vec<Group> {
    let mut out = Vec::new();
    for i in 0..n {
        let tag = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let (_, owner) = api.user(&format!("owner-{i}-{tag}"), false).await;
        let (member_id, member) = api.user(&format!("member-{i}-{tag}"), false).await;
        let id = api.group(&owner, &member_id, &format!("group {i}")).await;
        let installation = api.install(&owner, &id, slug, grants.clone()).await;
        out.push(Group {
            id,
            owner,
            member,
            installation,
        });
    }
    out
}

/// The rule, written again here: installations ordered by the first 8
/// bytes (big-endian) of sha256("{rollout}/{installation}"), the named
/// groups first; a step at `percent` takes the first ceil(n * percent / 100).
fn expected_picks(rollout: &str, groups: &[Group], named: &[&str], percent: usize) -> Vec<String> {
    let rank = |g: &Group| {
        let digest = Sha256::digest(format!("{rollout}/{}", g.installation).as_bytes());
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&digest[..8]);
        (!named.contains(&g.id.as_str()), u64::from_be_bytes(bytes))
    };
    let mut ordered: Vec<&Group> = groups.iter().collect();
    ordered.sort_by_key(|g| rank(g));
    let take = (groups.len() * percent).div_ceil(100);
    let mut picked: Vec<String> = ordered
        .iter()
        .enumerate()
        .filter(|(i, g)| *i < take || named.contains(&g.id.as_str()))
        .map(|(_, g)| g.id.clone())
        .collect();
    picked.sort();
    picked
}

/// The groups a rollout chose, sorted.
fn chosen(rollout: &Value) -> Vec<String> {
    let mut groups: Vec<String> = rollout["installations"]
        .as_array()
        .expect("installations")
        .iter()
        .map(|i| i["group_id"].as_str().expect("group").to_string())
        .collect();
    groups.sort();
    groups
}

async fn half_of_ten_groups_then_wider_then_rolled_back_by_hand(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let server = Server::start(&db.url, ADMIN);
    let api = Api::new(&server, ADMIN);
    let (dev_id, dev) = api.user("dora", true).await;
    let (_, rival) = api.user("rita", true).await;
    api.upload(&dev, "canary", qun_components::CANARY_V1).await;
    api.approve("canary", "1.0.0").await;
    let groups = groups(&api, 10, "canary", json!([])).await;
    // The developer's own test group, in developer mode: no rollout touches it.
    let (status, test_group) = api
        .post("/v1/groups", &dev, json!({"name": "dora's test group"}))
        .await;
    assert_eq!(status, 201, "{test_group}");
    let test_group = test_group["id"].as_str().expect("gid").to_string();
    let (status, body) = api
        .post(
            &format!("/v1/groups/{test_group}/apps"),
            &dev,
            json!({"app": "canary", "dev": true}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    api.upload(&dev, "canary", qun_components::CANARY_V2).await;
    let rollouts = "/v1/apps/canary/rollouts";

    // An unapproved version is not rolled out.
    let (status, body) = api
        .post(rollouts, &dev, json!({"version": "2.0.0", "percent": 50}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("not_approved")),
        "{body}"
    );
    let (status, body) = api
        .post(rollouts, &dev, json!({"version": "9.9.9", "percent": 50}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("version_not_found")),
        "{body}"
    );
    api.approve("canary", "2.0.0").await;
    // Nobody but its developer (and platform admins) starts one: a member
    // of a group that runs it and another developer see 403 (the app is in
    // the catalog), an app nobody can see is 404.
    for token in [&groups[0].member, &groups[0].owner, &rival] {
        let (status, body) = api
            .post(rollouts, token, json!({"version": "2.0.0", "percent": 50}))
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("forbidden")),
            "{body}"
        );
        let (status, _) = api.get(rollouts, token).await;
        assert_eq!(status, 403);
    }
    let (status, body) = api
        .post(
            "/v1/apps/nope/rollouts",
            &dev,
            json!({"version": "2.0.0", "percent": 50}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("app_not_found")),
        "{body}"
    );
    // Bad shares are named.
    let (status, body) = api
        .post(rollouts, &dev, json!({"version": "2.0.0", "percent": 101}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("invalid_percent")),
        "{body}"
    );
    let (status, body) = api.post(rollouts, &dev, json!({"version": "2.0.0"})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("empty_rollout")),
        "{body}"
    );
    let (status, body) = api
        .post(
            rollouts,
            &dev,
            json!({"version": "2.0.0", "groups": [test_group]}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("group_not_installed")),
        "{body}"
    );

    settle(&api, &dev, "canary").await;
    // 50% of ten groups: exactly the five the rule picks.
    let (status, rollout) = api
        .post(rollouts, &dev, json!({"version": "2.0.0", "percent": 50}))
        .await;
    assert_eq!(status, 201, "{rollout}");
    assert_eq!(rollout["status"], "active");
    assert_eq!(rollout["max_fault_percent"], 10, "the default threshold");
    assert_eq!(rollout["min_invocations"], 20, "the default minimum");
    let id = rollout["id"].as_str().expect("id").to_string();
    let first = expected_picks(&id, &groups, &[], 50);
    assert_eq!(first.len(), 5);
    assert_eq!(chosen(&rollout), first, "{rollout}");
    assert!(
        rollout["installations"]
            .as_array()
            .expect("list")
            .iter()
            .all(|i| i["status"] == "moved"
                && i["previous_version"] == "1.0.0"
                && i["version"] == "2.0.0"),
        "{rollout}"
    );
    assert!(
        !rollout.to_string().contains(&test_group),
        "developer mode is left alone"
    );
    let (status, body) = api
        .post(rollouts, &dev, json!({"version": "2.0.0", "percent": 10}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("rollout_active")),
        "{body}"
    );
    // Members of the picked groups are answered by 2.0.0, the others by 1.0.0.
    for g in &groups {
        let want = if first.contains(&g.id) {
            "2.0.0"
        } else {
            "1.0.0"
        };
        assert_eq!(
            version_seen(&api, g, "canary").await,
            want,
            "group {}",
            g.id
        );
    }
    // The developer's own calls in developer mode are not counted.
    let (status, _) = api
        .post(
            &format!("/v1/groups/{test_group}/apps/canary/actions/version"),
            &dev,
            json!({}),
        )
        .await;
    assert_eq!(status, 200);
    let one = format!("{rollouts}/{id}");
    let (status, seen) = api.get(&one, &dev).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["new_version"]["invocations"], 5, "{seen}");
    assert_eq!(seen["new_version"]["faults"], 0, "{seen}");
    assert_eq!(seen["other_versions"]["invocations"], 5, "{seen}");
    let (status, list) = api.get(rollouts, &dev).await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["id"], id.as_str(), "{list}");
    // A platform admin sees it too; another app's rollout path does not.
    let (status, _) = api.get(&one, ADMIN).await;
    assert_eq!(status, 200);
    api.upload(&rival, "upgrader", qun_components::UPGRADER_V1)
        .await;
    let (status, body) = api
        .get(&format!("/v1/apps/upgrader/rollouts/{id}"), &rival)
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("rollout_not_found")),
        "{body}"
    );

    // Widening only adds: 80% with a named group the rule ranks last (named
    // groups come first, so 80% is that group and the seven best ranked).
    let (status, body) = api.patch(&one, &dev, json!({})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("empty_step")),
        "{body}"
    );
    let (status, body) = api.patch(&one, &dev, json!({"percent": 30})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("cannot_narrow")),
        "{body}"
    );
    let (status, body) = api.patch(&one, &rival, json!({"percent": 80})).await;
    assert_eq!(status, 403, "{body}");
    let last = {
        let all = expected_picks(&id, &groups, &[], 100);
        let ninety = expected_picks(&id, &groups, &[], 90);
        all.into_iter()
            .find(|g| !ninety.contains(g))
            .expect("a last group")
    };
    assert!(!first.contains(&last));
    let (status, wider) = api
        .patch(&one, &dev, json!({"percent": 80, "groups": [last]}))
        .await;
    assert_eq!(status, 200, "{wider}");
    let second = expected_picks(&id, &groups, &[last.as_str()], 80);
    assert_eq!(second.len(), 8);
    assert!(second.contains(&last));
    assert!(
        first.iter().all(|g| second.contains(g)),
        "widening keeps the first five"
    );
    assert_eq!(chosen(&wider), second, "{wider}");
    assert_eq!(wider["percent"], 80);
    assert_eq!(wider["groups"], json!([last]));
    assert_eq!(wider["status"], "active");
    for g in &groups {
        let want = if second.contains(&g.id) {
            "2.0.0"
        } else {
            "1.0.0"
        };
        assert_eq!(version_seen(&api, g, "canary").await, want);
    }

    // One step back: every moved installation runs 1.0.0 again.
    let (status, body) = api
        .post(&format!("{one}/rollback"), &groups[0].owner, json!({}))
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, back) = api.post(&format!("{one}/rollback"), &dev, json!({})).await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(back["status"], "rolled_back");
    assert!(
        back["installations"]
            .as_array()
            .expect("list")
            .iter()
            .all(|i| i["version"] == "1.0.0"),
        "{back}"
    );
    for g in &groups {
        assert_eq!(version_seen(&api, g, "canary").await, "1.0.0");
        let (_, installed) = api
            .get(&format!("/v1/groups/{}/apps", g.id), &g.owner)
            .await;
        assert_eq!(installed[0]["version"], "1.0.0", "{installed}");
    }
    let (_, mine) = api
        .get(&format!("/v1/groups/{test_group}/apps"), &dev)
        .await;
    assert_eq!(
        mine[0]["version"], "2.0.0",
        "developer mode keeps the newest upload"
    );
    let (status, body) = api.post(&format!("{one}/rollback"), &dev, json!({})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("rollout_ended")),
        "{body}"
    );
    let (status, body) = api.patch(&one, &dev, json!({"percent": 90})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("rollout_ended")),
        "{body}"
    );

    // The audit trail has every step, by whom, about which installation.
    let start = api.audit("canary", "rollout.start").await;
    assert_eq!(start.len(), 1, "{start:?}");
    assert_eq!(start[0]["actor"], dev_id.as_str());
    assert!(start[0]["detail"].as_str().expect("detail").contains(&id));
    let widen = api.audit("canary", "rollout.widen").await;
    assert_eq!(widen.len(), 1, "{widen:?}");
    assert!(
        widen[0]["detail"]
            .as_str()
            .expect("detail")
            .contains("50% -> 80%"),
        "{widen:?}"
    );
    let rollback = api.audit("canary", "rollout.rollback").await;
    assert_eq!(rollback.len(), 1, "{rollback:?}");
    assert!(
        rollback[0]["detail"]
            .as_str()
            .expect("detail")
            .contains("8 installations"),
        "{rollback:?}"
    );
    let upgrades: Vec<Value> = api
        .audit("canary", "installation.upgrade")
        .await
        .into_iter()
        .filter(|r| r["detail"].as_str().is_some_and(|d| d.contains(&id)))
        .collect();
    let mut upgraded: Vec<String> = upgrades
        .iter()
        .map(|r| r["group_id"].as_str().expect("group").to_string())
        .collect();
    upgraded.sort();
    assert_eq!(upgraded, second, "one upgrade row per moved installation");
    let mut reverted: Vec<String> = api
        .audit("canary", "installation.rollback")
        .await
        .iter()
        .map(|r| r["group_id"].as_str().expect("group").to_string())
        .collect();
    reverted.sort();
    assert_eq!(reverted, second, "one rollback row per moved installation");
    let (status, verified) = api.get("/v1/admin/audit/verify", ADMIN).await;
    assert_eq!(status, 200, "{verified}");
    assert!(verified["broken"].is_null(), "{verified}");

    // A new rollout may start now; at 100% it completes at once.
    let (status, done) = api
        .post(rollouts, &dev, json!({"version": "2.0.0", "percent": 100}))
        .await;
    assert_eq!(status, 201, "{done}");
    assert_eq!(done["status"], "completed");
    for g in &groups {
        assert_eq!(version_seen(&api, g, "canary").await, "2.0.0");
    }
    assert_eq!(api.audit("canary", "rollout.complete").await.len(), 1);
}

async fn a_faulting_version_is_rolled_back_automatically(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let server = Server::start(&db.url, ADMIN);
    let api = Api::new(&server, ADMIN);
    let (_, dev) = api.user("dora", true).await;
    api.upload(&dev, "canary", qun_components::CANARY_V1).await;
    api.approve("canary", "1.0.0").await;
    let groups = groups(&api, 6, "canary", json!([])).await;
    api.upload(&dev, "canary", qun_components::CANARY_V2).await;
    api.approve("canary", "2.0.0").await;
    settle(&api, &dev, "canary").await;
    // Two named groups and nothing more; judged after 4 invocations, rolled
    // back past 50% faults.
    let named = [groups[0].id.as_str(), groups[1].id.as_str()];
    let (status, rollout) = api
        .post(
            "/v1/apps/canary/rollouts",
            &dev,
            json!({"version": "2.0.0", "groups": named, "max_fault_percent": 50, "min_invocations": 4}),
        )
        .await;
    assert_eq!(status, 201, "{rollout}");
    let id = rollout["id"].as_str().expect("id").to_string();
    assert_eq!(chosen(&rollout), expected_picks(&id, &groups, &named, 0));
    assert_eq!(chosen(&rollout).len(), 2);
    let one = format!("/v1/apps/canary/rollouts/{id}");
    let crash = |g: &Group| {
        let path = format!("/v1/groups/{}/apps/canary/actions/crash", g.id);
        let member = g.member.clone();
        let api = &api;
        async move { api.post(&path, &member, json!({})).await }
    };
    // A group that installs it now gets the version the others run (its
    // `installed` event and this action: two invocations of 1.0.0).
    let late = self::groups(&api, 1, "canary", json!([])).await;
    assert_eq!(version_seen(&api, &late[0], "canary").await, "1.0.0");
    settle(&api, &dev, "canary").await;
    // The old version does not crash: counted on its side.
    for g in &groups[2..] {
        let (status, body) = crash(g).await;
        assert_eq!(status, 200, "{body}");
    }
    // One success and two faults of 2.0.0: 3 invocations, below the minimum.
    assert_eq!(version_seen(&api, &groups[0], "canary").await, "2.0.0");
    for g in &groups[..2] {
        let (status, body) = crash(g).await;
        assert_eq!(status, 502, "a trap: {body}");
    }
    let (_, now) = api.get(&one, &dev).await;
    assert_eq!(now["status"], "active", "{now}");
    assert_eq!(now["new_version"]["invocations"], 3, "{now}");
    assert_eq!(now["new_version"]["faults"], 2, "{now}");
    assert_eq!(now["new_version"]["errors"], 2, "{now}");
    assert_eq!(now["other_versions"]["invocations"], 6, "{now}");
    assert_eq!(now["other_versions"]["faults"], 0, "{now}");
    // The fourth: 3 faults of 4 is past 50%; the host rolls back at once.
    let (status, _) = crash(&groups[1]).await;
    assert_eq!(status, 502);
    let (_, after) = api.get(&one, &dev).await;
    assert_eq!(after["status"], "rolled_back_automatically", "{after}");
    assert_eq!(after["new_version"]["invocations"], 4, "{after}");
    assert_eq!(after["new_version"]["faults"], 3, "{after}");
    let reason = after["end_reason"].as_str().expect("reason");
    assert!(reason.contains("3 of 4"), "{reason}");
    for g in &groups {
        assert_eq!(version_seen(&api, g, "canary").await, "1.0.0");
    }
    // Counting stopped with the rollout.
    let (_, later) = api.get(&one, &dev).await;
    assert_eq!(
        later["other_versions"]["invocations"],
        after["other_versions"]["invocations"]
    );
    // Visible: an audit row by the host, a line in the app's log.
    let auto = api.audit("canary", "rollout.auto_rollback").await;
    assert_eq!(auto.len(), 1, "{auto:?}");
    assert_eq!(auto[0]["actor"], "health");
    assert!(auto[0]["detail"].as_str().expect("detail").contains(&id));
    let reverted = api.audit("canary", "installation.rollback").await;
    assert_eq!(reverted.len(), 2, "{reverted:?}");
    assert!(reverted.iter().all(|r| r["actor"] == "health"));
    let (status, logs) = api.get("/v1/apps/canary/logs?limit=500", &dev).await;
    assert_eq!(status, 200, "{logs}");
    let line = logs["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .find(|l| l["fields"].to_string().contains("rollout_rolled_back"))
        .unwrap_or_else(|| panic!("a log line about the rollback: {logs}"));
    assert_eq!(line["level"], "error");
    assert!(
        line["message"]
            .as_str()
            .expect("message")
            .contains("rolled back automatically")
    );
}

async fn the_rollback_re_enables_what_the_new_versions_faults_disabled(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let server = Server::start(&db.url, ADMIN);
    let api = Api::new(&server, ADMIN);
    let (_, dev) = api.user("dora", true).await;
    api.upload(&dev, "canary", qun_components::CANARY_V1).await;
    api.approve("canary", "1.0.0").await;
    let groups = groups(&api, 3, "canary", json!([])).await;
    api.upload(&dev, "canary", qun_components::CANARY_V2).await;
    api.approve("canary", "2.0.0").await;
    settle(&api, &dev, "canary").await;
    let (status, rollout) = api
        .post(
            "/v1/apps/canary/rollouts",
            &dev,
            json!({"version": "2.0.0", "groups": [groups[0].id, groups[1].id],
                   "max_fault_percent": 50, "min_invocations": 6}),
        )
        .await;
    assert_eq!(status, 201, "{rollout}");
    let one = format!(
        "/v1/apps/canary/rollouts/{}",
        rollout["id"].as_str().expect("id")
    );
    let crash = |g: &Group| {
        let path = format!("/v1/groups/{}/apps/canary/actions/crash", g.id);
        let member = g.member.clone();
        let api = &api;
        async move { api.post(&path, &member, json!({})).await.0 }
    };
    // Five traps in one group: the health check disables it there (the
    // rollout has not seen enough invocations to judge yet).
    for _ in 0..5 {
        assert_eq!(crash(&groups[0]).await, 502);
    }
    let (_, installed) = api
        .get(
            &format!("/v1/groups/{}/apps", groups[0].id),
            &groups[0].owner,
        )
        .await;
    assert_eq!(installed[0]["enabled"], false, "{installed}");
    assert_eq!(installed[0]["disabled_by"], "health", "{installed}");
    let (_, now) = api.get(&one, &dev).await;
    assert_eq!(now["status"], "active", "{now}");
    // The sixth fault, elsewhere, rolls it back; the disabled installation
    // runs 1.0.0 again, enabled.
    assert_eq!(crash(&groups[1]).await, 502);
    let (_, after) = api.get(&one, &dev).await;
    assert_eq!(after["status"], "rolled_back_automatically", "{after}");
    let (_, installed) = api
        .get(
            &format!("/v1/groups/{}/apps", groups[0].id),
            &groups[0].owner,
        )
        .await;
    assert_eq!(installed[0]["enabled"], true, "{installed}");
    assert_eq!(installed[0]["version"], "1.0.0", "{installed}");
    for g in &groups {
        assert_eq!(version_seen(&api, g, "canary").await, "1.0.0");
        assert_eq!(crash(g).await, 200, "1.0.0 does not crash");
    }
    let reverted = api.audit("canary", "installation.rollback").await;
    assert!(
        reverted
            .iter()
            .any(|r| r["group_id"] == groups[0].id.as_str()
                && r["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("re-enabled"))),
        "{reverted:?}"
    );
}

async fn new_capabilities_still_wait_for_each_owners_consent(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let server = Server::start(&db.url, ADMIN);
    let api = Api::new(&server, ADMIN);
    let (_, dev) = api.user("dora", true).await;
    api.upload(&dev, "upgrader", qun_components::UPGRADER_V1)
        .await;
    api.approve("upgrader", "1.0.0").await;
    let groups = groups(&api, 2, "upgrader", json!(["storage"])).await;
    api.upload(&dev, "upgrader", qun_components::UPGRADER_V2)
        .await;
    api.approve("upgrader", "2.0.0").await;
    // 2.0.0 asks for `messaging` too: no group gets it without its owner.
    let (status, rollout) = api
        .post(
            "/v1/apps/upgrader/rollouts",
            &dev,
            json!({"version": "2.0.0", "groups": [groups[0].id, groups[1].id]}),
        )
        .await;
    assert_eq!(status, 201, "{rollout}");
    let id = rollout["id"].as_str().expect("id").to_string();
    assert!(
        rollout["installations"]
            .as_array()
            .expect("list")
            .iter()
            .all(|i| i["status"] == "pending_consent" && i["version"] == "1.0.0"),
        "{rollout}"
    );
    for g in &groups {
        assert_eq!(version_seen(&api, g, "upgrader").await, "1.0.0");
        let (_, installed) = api
            .get(&format!("/v1/groups/{}/apps", g.id), &g.owner)
            .await;
        assert_eq!(installed[0]["pending_version"], "2.0.0", "{installed}");
        assert_eq!(
            installed[0]["pending_capabilities"],
            json!(["messaging"]),
            "{installed}"
        );
        assert_eq!(installed[0]["grants"], json!(["storage"]), "{installed}");
    }
    let requested = api
        .audit("upgrader", "installation.upgrade_requested")
        .await;
    assert_eq!(requested.len(), 2, "{requested:?}");
    // The first owner consents; the second does not.
    let (status, body) = api
        .patch(
            &format!("/v1/groups/{}/apps/upgrader", groups[0].id),
            &groups[0].owner,
            json!({"version": "2.0.0", "grants": ["storage", "messaging"]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(version_seen(&api, &groups[0], "upgrader").await, "2.0.0");
    // Rolled back: the consenting group runs 1.0.0 with its old grants, the
    // other one's waiting upgrade is withdrawn.
    let (status, back) = api
        .post(
            &format!("/v1/apps/upgrader/rollouts/{id}/rollback"),
            &dev,
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{back}");
    for g in &groups {
        assert_eq!(version_seen(&api, g, "upgrader").await, "1.0.0");
        let (_, installed) = api
            .get(&format!("/v1/groups/{}/apps", g.id), &g.owner)
            .await;
        assert_eq!(installed[0]["grants"], json!(["storage"]), "{installed}");
        assert!(installed[0]["pending_version"].is_null(), "{installed}");
    }
    assert_eq!(
        api.audit("upgrader", "installation.rollback").await.len(),
        2
    );
}

/// Run `qun ARGS` with its config in `config`.

async fn the_cli_starts_widens_shows_and_rolls_back(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let server = Server::start(&db.url, ADMIN);
    let api = Api::new(&server, ADMIN);
    let (_, dev) = api.user("dora", true).await;
    api.upload(&dev, "canary", qun_components::CANARY_V1).await;
    api.approve("canary", "1.0.0").await;
    let groups = groups(&api, 4, "canary", json!([])).await;
    api.upload(&dev, "canary", qun_components::CANARY_V2).await;
    settle(&api, &dev, "canary").await;
    let config = std::env::temp_dir()
        .join(format!("qun-rollouts-{}", uuid::Uuid::new_v4().simple()))
        .join("config");
    let out = qun(&config, &["login", &server.base, "--token", &dev]);
    assert!(out.status.success(), "{}", text(&out));

    let out = qun(
        &config,
        &[
            "app",
            "rollout",
            "2.0.0",
            "--percent",
            "50",
            "--app",
            "canary",
        ],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("pending; only an approved version"),
        "{}",
        text(&out)
    );
    api.approve("canary", "2.0.0").await;
    let out = qun(
        &config,
        &["app", "rollout", "--widen", "50", "--app", "canary"],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("no active rollout"), "{}", text(&out));
    let out = qun(
        &config,
        &[
            "app",
            "rollout",
            "2.0.0",
            "--percent",
            "50",
            "--group",
            &groups[3].id,
            "--app",
            "canary",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("active at 50%"), "{}", text(&out));
    assert!(
        text(&out).contains("2 installations chosen, 2 moved"),
        "{}",
        text(&out)
    );
    assert_eq!(version_seen(&api, &groups[3], "canary").await, "2.0.0");

    let out = qun(&config, &["app", "status", "canary"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("of 2.0.0: active at 50%"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("new version:    1 invocations"),
        "{}",
        text(&out)
    );

    let out = qun(
        &config,
        &["app", "rollout", "--widen", "75", "--app", "canary"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("3 installations chosen, 3 moved"),
        "{}",
        text(&out)
    );
    let out = qun(&config, &["app", "rollback", "canary"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("rolled_back at 75%"), "{}", text(&out));
    for g in &groups {
        assert_eq!(version_seen(&api, g, "canary").await, "1.0.0");
    }
    let out = qun(&config, &["app", "rollback", "canary"]);
    assert!(!out.status.success());
    assert!(text(&out).contains("no active rollout"), "{}", text(&out));
}
