//! Both contract versions side by side (issue 13): a `qun:app@0.1.0`
//! component (built from source with raw wit-bindgen) uploaded, approved,
//! installed and answering over HTTP, its card kept as blocks with element
//! references; a `qun:app@0.2.0` component keeping its card up to date,
//! deleting it, replying privately and scheduling a recurring timer; and a
//! component of a version the host does not serve refused at upload.

mod server_common;

use axum::http::{Method, StatusCode};
use qun_blocks::{Block, Element, Response};
use qun_host::Answer;
use qun_host::http::HttpConfig;
use qun_host::runtime::DeliveryConfig;
use qun_tests::{Backend, World, app_error, backend_tests};
use serde_json::{Value, json};
use server_common::{call, code, json, router};

backend_tests!(
    a_0_1_app_is_uploaded_installed_and_answers,
    a_0_2_app_keeps_its_card_up_to_date_and_replies_privately,
    a_0_2_app_schedules_a_recurring_timer,
    an_unknown_contract_version_is_refused_at_upload,
);

/// A user created through the API by the admin; returns (id, token).
async fn user(app: &axum::Router, admin: &str, name: &str, developer: bool) -> (String, String) {
    let (status, body) = call(
        app,
        Method::POST,
        "/v1/users",
        Some(admin),
        json(json!({"name": qun_tests::unique(name), "developer": developer})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["id"].as_str().expect("id").into(),
        body["token"].as_str().expect("token").into(),
    )
}

/// The buttons of a stored message, in order.
fn buttons(blocks: &[Block]) -> Vec<&qun_blocks::Button> {
    blocks
        .iter()
        .flat_map(|b| match b {
            Block::Actions { elements } => elements.iter().collect::<Vec<_>>(),
            _ => Vec::new(),
        })
        .filter_map(|e| match e {
            Element::Button(b) => Some(b),
            _ => None,
        })
        .collect()
}

async fn a_0_1_app_is_uploaded_installed_and_answers(backend: Backend) {
    let Some((db, _state, app)) = router(backend, HttpConfig::default()).await else {
        return;
    };
    let admin = qun_tests::unique("admin-token");
    db.store
        .create_user(&qun_tests::unique("admin"), &admin, true, true)
        .await
        .expect("admin");
    let (_, dev) = user(&app, &admin, "dev", true).await;
    let (_, owner) = user(&app, &admin, "owner", false).await;
    let (member_id, member) = user(&app, &admin, "member", false).await;
    let (_, group) = call(
        &app,
        Method::POST,
        "/v1/groups",
        Some(&owner),
        json(json!({"name": "club"})),
    )
    .await;
    let gid = group["id"].as_str().expect("gid").to_string();
    let (status, _) = call(
        &app,
        Method::POST,
        &format!("/v1/groups/{gid}/members"),
        Some(&owner),
        json(json!({"user_id": member_id})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    // Uploaded, approved, installed exactly like any app.
    call(
        &app,
        Method::POST,
        "/v1/apps",
        Some(&dev),
        json(json!({"slug": "legacy-polls", "name": "Legacy polls"})),
    )
    .await;
    let bytes = qun_components::read(qun_components::LEGACY_POLLS);
    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/apps/legacy-polls/versions",
        Some(&dev),
        Some(("application/wasm", bytes)),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/admin/apps/legacy-polls/versions/0.1.0/approve",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = call(
        &app,
        Method::POST,
        &format!("/v1/groups/{gid}/apps"),
        Some(&owner),
        json(json!({"app": "legacy-polls", "grants": ["storage"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // `/poll` answers with its 0.1 card, shown as before.
    let (status, posted) = call(
        &app,
        Method::POST,
        &format!("/v1/groups/{gid}/messages"),
        Some(&member),
        json(json!({"text": "/poll Lunch? | noodles | rice"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    let card = &posted["messages"][1];
    assert_eq!(card["card"]["title"], "Lunch?", "{posted}");
    // Clients see each button's reference, never its payload.
    assert!(
        card["card"]["buttons"][0].get("payload").is_none(),
        "{posted}"
    );

    // Stored as blocks: header = title, text = body, fields, one actions row.
    let id = card["id"].as_i64().expect("message id");
    let stored = db
        .store
        .message(&gid, id)
        .await
        .expect("message")
        .expect("stored");
    let blocks = stored.blocks.expect("blocks").blocks;
    assert_eq!(
        blocks[0],
        Block::Header {
            text: "Lunch?".into()
        }
    );
    assert_eq!(
        blocks[1],
        Block::Text {
            text: "Vote with the buttons.".into()
        }
    );
    assert!(matches!(&blocks[2], Block::Fields { fields } if fields[0].value == "noodles, rice"));
    let labels: Vec<&str> = buttons(&blocks).iter().map(|b| b.label.as_str()).collect();
    assert_eq!(labels, ["noodles", "rice", "Results"]);
    assert!(
        buttons(&blocks)
            .iter()
            .all(|b| b.style == qun_blocks::ButtonStyle::Default)
    );

    // Each button has an unguessable reference bound to this group.
    let elements = db.store.elements_of(id).await.expect("elements");
    let actions: Vec<&str> = elements.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["vote", "vote", "results"]);
    assert!(elements.iter().all(|e| e.reference.len() == 32));
    assert_eq!(
        card["card"]["buttons"][0]["ref"],
        json!(elements[0].reference)
    );
    let vote_payload: Value = serde_json::from_str(&elements[0].payload).expect("payload");
    assert_eq!(vote_payload["choice"], 0, "{posted}");
    let resolved = db
        .store
        .element(&gid, &elements[1].reference)
        .await
        .expect("element")
        .expect("resolves in its group");
    assert_eq!(
        serde_json::from_str::<Value>(&resolved.payload).expect("payload")["choice"],
        1
    );
    assert!(
        db.store
            .element("g_elsewhere", &elements[1].reference)
            .await
            .expect("element")
            .is_none(),
        "a reference answers nothing in another group"
    );

    // Votes through the action route, then the results.
    for (token, choice) in [(&member, 0), (&owner, 1)] {
        let mut payload = vote_payload.clone();
        payload["choice"] = json!(choice);
        let (status, body) = call(
            &app,
            Method::POST,
            &format!("/v1/groups/{gid}/apps/legacy-polls/actions/vote"),
            Some(token),
            json(payload),
        )
        .await;
        assert_eq!((status, &body), (StatusCode::OK, &json!({"ok": true})));
    }
    let (status, results) = call(
        &app,
        Method::POST,
        &format!("/v1/groups/{gid}/apps/legacy-polls/actions/results"),
        Some(&member),
        json(json!({"poll": vote_payload["poll"]})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{results}");
    assert_eq!(results["counts"], json!([1, 1]), "{results}");
    assert_eq!(results["question"], "Lunch?");

    // A 0.1 app has no forms.
    let inst = db
        .store
        .installation_of(&gid, "legacy-polls")
        .await
        .expect("installation")
        .expect("installed");
    let err = _state
        .runtime
        .invoke(qun_host::Invocation {
            installation_id: inst.id,
            actor: Some(member_id),
            call: qun_host::Call::Submit {
                callback: "x".into(),
                state: String::new(),
                values: Vec::new(),
                step: 1,
            },
            invocation_id: None,
        })
        .await
        .expect_err("no forms in 0.1");
    assert_eq!(err.code(), "unsupported", "{err}");
}

/// The message id in a private reply `card <id>`.
fn card_id(answer: &Answer) -> i64 {
    let Answer::Response(Response::Private { message }) = answer else {
        panic!("no private reply: {answer:?}");
    };
    message
        .text
        .strip_prefix("card ")
        .and_then(|id| id.parse().ok())
        .expect("card id")
}

fn text_blocks(message: &qun_host::store::StoredMessage) -> Vec<String> {
    message
        .blocks
        .as_ref()
        .map(|m| {
            m.blocks
                .iter()
                .filter_map(|b| match b {
                    Block::Text { text } => Some(text.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Ids of the messages of `gid` that `member` sees.
async fn seen(w: &World, gid: &str, member: &str) -> Vec<i64> {
    w.store()
        .messages_visible(gid, member, 0, 100)
        .await
        .expect("visible")
        .into_iter()
        .map(|m| m.id)
        .collect()
}

async fn a_0_2_app_keeps_its_card_up_to_date_and_replies_privately(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, _owner, members) = w.group(2).await;
    let (alice, bob) = (&members[0].id, &members[1].id);
    let inst = w
        .install(
            qun_components::MESSENGER,
            &gid,
            &["messaging", "storage", "scheduler"],
        )
        .await;

    // The card is posted, updated in the same invocation, and its id kept;
    // the command's answer is a private reply to alice.
    let done = w
        .command(&inst, alice, "card", "Counter")
        .await
        .expect("card");
    let id = card_id(&done.answer);
    assert_eq!(done.posted, [id]);
    assert_eq!(done.private.len(), 1);
    assert_eq!(&done.private[0].1, alice);
    let private_id = done.private[0].0;
    let card = w
        .store()
        .message(&gid, id)
        .await
        .expect("message")
        .expect("stored");
    assert_eq!(text_blocks(&card), ["count: 0 (fresh)"]);
    let first_refs = w.store().elements_of(id).await.expect("elements");
    assert_eq!(first_refs.len(), 1);
    assert_eq!(first_refs[0].action, "bump");

    // The private reply is alice's alone.
    let reply = w
        .store()
        .message(&gid, private_id)
        .await
        .expect("message")
        .expect("stored");
    assert_eq!(reply.visible_to.as_ref(), Some(alice));
    assert!(seen(&w, &gid, alice).await.contains(&private_id));
    assert!(!seen(&w, &gid, bob).await.contains(&private_id));
    assert!(
        w.store()
            .message_for(&gid, bob, private_id)
            .await
            .expect("message")
            .is_none()
    );

    // bob bumps: the same message now shows the count, with fresh references.
    let bumped = w
        .runtime
        .invoke(qun_host::Invocation {
            installation_id: inst.clone(),
            actor: Some(bob.clone()),
            call: qun_host::Call::Action {
                name: "bump".into(),
                payload: first_refs[0].payload.clone(),
                value: None,
                message_id: Some(id),
            },
            invocation_id: None,
        })
        .await
        .expect("bump");
    assert_eq!(bumped.changed, [id]);
    assert!(bumped.posted.is_empty());
    let card = w
        .store()
        .message(&gid, id)
        .await
        .expect("message")
        .expect("stored");
    assert_eq!(text_blocks(&card), ["count: 1"]);
    assert!(card.updated_at.is_some());
    assert!(
        w.store()
            .element(&gid, &first_refs[0].reference)
            .await
            .expect("element")
            .is_none(),
        "the old button reference is gone"
    );
    assert_eq!(w.store().elements_of(id).await.expect("elements").len(), 1);

    // bob whispers: a private message and a private response, both his.
    let whispered = w
        .runtime
        .invoke(qun_host::Invocation {
            installation_id: inst.clone(),
            actor: Some(bob.clone()),
            call: qun_host::Call::Action {
                name: "whisper".into(),
                payload: "{}".into(),
                value: None,
                message_id: None,
            },
            invocation_id: None,
        })
        .await
        .expect("whisper");
    assert_eq!(whispered.private.len(), 2);
    assert!(whispered.private.iter().all(|(_, to)| to == bob));
    for (pid, _) in &whispered.private {
        assert!(seen(&w, &gid, bob).await.contains(pid));
        assert!(!seen(&w, &gid, alice).await.contains(pid));
    }

    // An app cannot touch a message it did not post.
    let mine = w
        .store()
        .post_message(&qun_host::store::NewMessage {
            group_id: gid.clone(),
            user_id: Some(alice.clone()),
            text: Some("hello".into()),
            ..Default::default()
        })
        .await
        .expect("member message");
    for other in [
        mine.id.to_string(),
        "not-a-number".into(),
        "999999999".into(),
    ] {
        let answer = w
            .action(&inst, bob, "touch", json!({"id": other}))
            .await
            .expect("touch");
        assert_eq!(answer, json!({"error": "not-found"}), "{other}");
    }
    let hello = w
        .store()
        .message(&gid, mine.id)
        .await
        .expect("m")
        .expect("kept");
    assert_eq!(hello.text.as_deref(), Some("hello"));

    // Deleted: gone for everyone, references dropped, no longer its to touch.
    let removed = w
        .action(&inst, alice, "remove", json!({}))
        .await
        .expect("remove");
    assert_eq!(removed, json!({"deleted": id.to_string()}));
    let gone = w.store().message(&gid, id).await.expect("m").expect("row");
    assert!(gone.deleted_at.is_some());
    assert!(gone.blocks.is_none() && gone.text.is_none());
    assert!(
        w.store()
            .elements_of(id)
            .await
            .expect("elements")
            .is_empty()
    );
    let answer = w
        .action(&inst, bob, "touch", json!({"id": id.to_string()}))
        .await
        .expect("touch");
    assert_eq!(answer, json!({"error": "not-found"}));
}

async fn a_0_2_app_schedules_a_recurring_timer(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, _) = w.group(0).await;
    let inst = w
        .install(
            qun_components::MESSENGER,
            &gid,
            &["messaging", "storage", "scheduler"],
        )
        .await;
    let day = 86_400_000;

    // Too often is refused, and nothing is scheduled.
    let err = w
        .action(&inst, &owner.id, "remind-fast", json!({}))
        .await
        .expect_err("every 4 minutes");
    let (variant, message) = app_error(&err).expect("app error");
    assert_eq!(variant, "invalid");
    assert!(
        message.contains("shortest period is 5 minutes"),
        "{message}"
    );

    let answer = w
        .action(&inst, &owner.id, "remind", json!({}))
        .await
        .expect("remind");
    let first = answer["first"].as_i64().expect("first occurrence");
    let now = qun_host::store::now_ms();
    assert!(first > now && first <= now + day, "{first} vs {now}");
    assert_eq!(
        first % day,
        18 * 3_600_000,
        "18:00 in the group's zone (UTC)"
    );
    let timers = w.store().timers(&inst).await.expect("timers");
    assert_eq!(timers.len(), 1);
    assert_eq!((timers[0].key.as_str(), timers[0].due_at), ("daily", first));
    assert!(timers[0].rule.is_some());

    // When it fires, the app runs and the next occurrence is armed.
    let report = w
        .runtime
        .deliver_due(&DeliveryConfig::default(), "test-host", first)
        .await
        .expect("deliver");
    assert_eq!(report.timers, 1, "{report:?}");
    let texts: Vec<String> = w
        .messages(&gid)
        .await
        .into_iter()
        .filter_map(|m| m.text)
        .collect();
    assert!(texts.contains(&"reminder daily".to_string()), "{texts:?}");
    let timers = w.store().timers(&inst).await.expect("timers");
    assert_eq!(timers.len(), 1, "still scheduled");
    assert_eq!(timers[0].due_at, first + day);
}

async fn an_unknown_contract_version_is_refused_at_upload(backend: Backend) {
    let Some((db, _state, app)) = router(backend, HttpConfig::default()).await else {
        return;
    };
    let admin = qun_tests::unique("admin-token");
    db.store
        .create_user(&qun_tests::unique("admin"), &admin, true, true)
        .await
        .expect("admin");
    let (_, dev) = user(&app, &admin, "dev", true).await;
    call(
        &app,
        Method::POST,
        "/v1/apps",
        Some(&dev),
        json(json!({"slug": "future", "name": "Future"})),
    )
    .await;
    let (status, body) = call(
        &app,
        Method::POST,
        "/v1/apps/future/versions",
        Some(&dev),
        Some((
            "application/wasm",
            qun_components::read(qun_components::FUTURE_VERSION),
        )),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("qun:app@0.9.0") && message.contains("0.1.0") && message.contains("0.2.0"),
        "{body}"
    );
    assert_eq!(code(&body), "invalid_wasm", "{body}");
}
