//! The first-party polls app, built from source, driven through `invoke`.
//! The command's options arrive typed, as the HTTP layer hands them over
//! after parsing `/poll Question? | a, b, c`; the app posts its card itself
//! and updates it as votes come in.

use qun_blocks::{Block, NamedValue, Value as Typed};
use qun_host::runtime::{Call, Invocation};
use qun_host::{Answer, InvokeError};
use qun_tests::{Backend, World, app_error, backend_tests};
use serde_json::{Value, json};

backend_tests!(
    a_poll_is_created_voted_revoted_and_closed,
    anonymous_polls_reveal_no_voter,
    a_hundred_members_vote_at_once_and_every_ballot_counts,
    the_closing_timer_closes_the_poll_and_posts_results,
    results_read_while_ballots_change_are_read_again,
);

fn text(name: &str, value: &str) -> NamedValue {
    NamedValue {
        name: name.to_string(),
        value: Typed::Text(value.to_string()),
    }
}

/// Create a poll as `actor` with typed options (`question`, `options` and
/// `extra`); returns its id, read from the card the app posted ("Poll #1: ...").
async fn create_poll(
    w: &World,
    gid: &str,
    inst: &str,
    actor: &str,
    question: &str,
    options: &str,
    extra: Vec<NamedValue>,
) -> String {
    let mut values = vec![text("question", question), text("options", options)];
    values.extend(extra);
    let outcome = w
        .runtime
        .invoke(Invocation {
            installation_id: inst.to_string(),
            actor: Some(actor.to_string()),
            call: Call::Command {
                name: "poll".into(),
                args: format!("{question} | {options}"),
                options: values,
            },
            invocation_id: None,
        })
        .await
        .expect("create poll");
    assert!(
        matches!(outcome.answer, Answer::Response(qun_blocks::Response::None)),
        "the app posts the card itself: {:?}",
        outcome.answer
    );
    let id = *outcome.posted.first().expect("the card was posted");
    let card = card_text(w, gid, id).await;
    card.strip_prefix("Poll #")
        .and_then(|rest| rest.split(':').next())
        .unwrap_or_else(|| panic!("no poll id in {card}"))
        .to_string()
}

/// The text of message `id` as it stands now.
async fn card_text(w: &World, gid: &str, id: i64) -> String {
    w.messages(gid)
        .await
        .into_iter()
        .find(|m| m.id == id)
        .and_then(|m| m.text)
        .unwrap_or_default()
}

/// The buttons of message `id` as it stands now.
async fn buttons(w: &World, gid: &str, id: i64) -> Vec<String> {
    let message = w
        .messages(gid)
        .await
        .into_iter()
        .find(|m| m.id == id)
        .and_then(|m| m.blocks)
        .expect("a message with blocks");
    message
        .blocks
        .iter()
        .flat_map(|b| match b {
            Block::Actions { elements } => elements
                .iter()
                .filter_map(|e| match e {
                    qun_blocks::Element::Button(b) => Some(b.label.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// The polls app in `gid`, with the capabilities it asks for.
async fn install_polls(w: &World, gid: &str) -> String {
    w.install(
        qun_tests::polls(),
        gid,
        &["membership", "messaging", "storage", "scheduler"],
    )
    .await
}

fn votes(results: &Value) -> Vec<u64> {
    results["options"]
        .as_array()
        .expect("options")
        .iter()
        .map(|o| o["votes"].as_u64().expect("votes"))
        .collect()
}

async fn a_poll_is_created_voted_revoted_and_closed(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, members) = w.group(4).await;
    let polls = install_polls(&w, &gid).await;
    let creator = &members[3];

    let poll = create_poll(
        &w,
        &gid,
        &polls,
        &creator.id,
        "Lunch?",
        "noodles, dumplings, rice",
        vec![],
    )
    .await;
    let card = w.messages(&gid).await[0].id;
    assert_eq!(
        buttons(&w, &gid, card).await,
        [
            "noodles",
            "dumplings",
            "rice",
            "My vote",
            "Results",
            "Close"
        ]
    );

    for (voter, choice) in [(&members[0], 0), (&members[1], 1), (&members[2], 1)] {
        w.action(
            &polls,
            &voter.id,
            "vote",
            json!({"poll": poll, "choices": [choice]}),
        )
        .await
        .expect("vote");
    }
    // A revote replaces the earlier ballot.
    w.action(
        &polls,
        &members[2].id,
        "vote",
        json!({"poll": poll, "choices": [2]}),
    )
    .await
    .expect("revote");
    let results = w
        .action(&polls, &owner.id, "results", json!({"poll": poll}))
        .await
        .expect("results");
    assert_eq!(votes(&results), [1, 1, 1]);
    assert_eq!(results["total_ballots"], json!(3));
    assert_eq!(results["options"][0]["voters"], json!([members[0].id]));
    // The card shows the counts: updated in place when the refresh slot
    // the votes fell in ends (one timer for all of them).
    let timers = w.store().timers(&polls).await.expect("timers");
    assert_eq!(timers.len(), 1, "{timers:?}");
    let report = w
        .runtime
        .deliver_due(
            &qun_host::runtime::DeliveryConfig::default(),
            "test",
            timers[0].due_at,
        )
        .await
        .expect("deliver");
    assert_eq!((report.timers, report.parked + report.retried), (1, 0));
    assert_eq!(
        card_text(&w, &gid, card).await,
        format!("Poll #{poll}: Lunch? (noodles 1, dumplings 1, rice 1)")
    );

    // Invalid choices are refused and change nothing.
    for bad in [json!([]), json!([7]), json!([0, 1])] {
        let err = w
            .action(
                &polls,
                &members[0].id,
                "vote",
                json!({"poll": poll, "choices": bad}),
            )
            .await
            .expect_err("bad");
        assert_eq!(
            app_error(&err).map(|e| e.0),
            Some("invalid"),
            "{bad}: {err:?}"
        );
    }
    let err = w
        .action(
            &polls,
            &members[0].id,
            "vote",
            json!({"poll": "nope", "choices": [0]}),
        )
        .await
        .expect_err("no poll");
    assert_eq!(app_error(&err).map(|e| e.0), Some("not-found"));

    // Another plain member may not close it; the creator may.
    let err = w
        .action(&polls, &members[0].id, "close", json!({"poll": poll}))
        .await
        .expect_err("not the creator");
    assert_eq!(app_error(&err).map(|e| e.0), Some("denied"));
    let closed = w
        .action(&polls, &creator.id, "close", json!({"poll": poll}))
        .await
        .expect("creator closes");
    assert_eq!(closed["closed"], json!(true));
    assert_eq!(votes(&closed), [1, 1, 1]);
    let err = w
        .action(
            &polls,
            &members[1].id,
            "vote",
            json!({"poll": poll, "choices": [0]}),
        )
        .await
        .expect_err("closed");
    assert_eq!(app_error(&err).map(|e| e.0), Some("invalid"));

    let messages = w.messages(&gid).await;
    assert_eq!(messages.len(), 2, "the poll card and the results");
    assert_eq!(
        messages[1].text.as_deref(),
        Some(format!("Poll #{poll} is closed.").as_str())
    );
    // The closed card keeps its counts and loses its buttons.
    assert!(buttons(&w, &gid, card).await.is_empty());

    // A group admin may close another member's poll.
    w.store()
        .add_member(&gid, &members[0].id, qun_host::store::Role::Admin)
        .await
        .expect("promote");
    let second = create_poll(&w, &gid, &polls, &creator.id, "Again?", "yes, no", vec![]).await;
    w.action(&polls, &members[0].id, "close", json!({"poll": second}))
        .await
        .expect("admin closes");
}

async fn anonymous_polls_reveal_no_voter(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, members) = w.group(3).await;
    let polls = install_polls(&w, &gid).await;
    let anonymous = NamedValue {
        name: "anonymous".into(),
        value: Typed::Checkbox(true),
    };
    let poll = create_poll(
        &w,
        &gid,
        &polls,
        &owner.id,
        "Rate the trip",
        "good, bad",
        vec![anonymous],
    )
    .await;
    for (i, m) in members.iter().enumerate() {
        w.action(
            &polls,
            &m.id,
            "vote",
            json!({"poll": poll, "choices": [i % 2]}),
        )
        .await
        .expect("vote");
    }
    let results = w
        .action(&polls, &members[0].id, "results", json!({"poll": poll}))
        .await
        .expect("results");
    assert_eq!(votes(&results), [2, 1]);
    let closed = w
        .action(&polls, &owner.id, "close", json!({"poll": poll}))
        .await
        .expect("close");

    let mut everything = vec![results.to_string(), closed.to_string()];
    for m in w.messages(&gid).await {
        everything.push(format!("{:?} {:?}", m.text, m.blocks));
    }
    for line in w.store().logs_of("polls", 1000).await.expect("logs") {
        everything.push(format!("{} {:?}", line.message, line.fields));
    }
    for m in &members {
        for text in &everything {
            assert!(!text.contains(&m.id), "voter {} revealed in {text}", m.id);
            assert!(
                !text.contains(&m.name),
                "voter {} revealed in {text}",
                m.name
            );
        }
    }
}

async fn a_hundred_members_vote_at_once_and_every_ballot_counts(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, members) = w.group(100).await;
    let polls = install_polls(&w, &gid).await;
    let poll = create_poll(
        &w,
        &gid,
        &polls,
        &owner.id,
        "Best day?",
        "Mon, Tue, Wed",
        vec![],
    )
    .await;
    let (other_gid, other_owner, _) = w.group(0).await;
    let other = w
        .install(qun_components::PROBE, &other_gid, &["storage"])
        .await;

    let order = std::sync::Mutex::new(Vec::new());
    let votes_fut = futures::future::join_all(members.iter().enumerate().map(|(i, m)| {
        let order = &order;
        let w = &w;
        let polls = &polls;
        let poll = &poll;
        async move {
            let r = w
                .action(
                    polls,
                    &m.id,
                    "vote",
                    json!({"poll": poll, "choices": [i % 3]}),
                )
                .await;
            order.lock().expect("lock").push("vote");
            r
        }
    }));
    let other_fut = async {
        let r = w
            .action(
                &other,
                &other_owner.id,
                "set",
                json!({"key": "k", "value": "v"}),
            )
            .await;
        order.lock().expect("lock").push("other group");
        r
    };
    let (results, other_result) = futures::join!(votes_fut, other_fut);
    for r in &results {
        assert!(r.is_ok(), "{r:?}");
    }
    other_result.expect("the other group's invocation succeeded");
    let order = order.into_inner().expect("order");
    let other_at = order
        .iter()
        .position(|o| *o == "other group")
        .expect("other ran");
    assert!(
        other_at < order.len() - 1,
        "the other group was not held up behind all 100 votes: {order:?}"
    );

    let results = w
        .action(&polls, &owner.id, "results", json!({"poll": poll}))
        .await
        .expect("results");
    assert_eq!(results["total_ballots"], json!(100));
    assert_eq!(votes(&results), [34, 33, 33]);
}

async fn the_closing_timer_closes_the_poll_and_posts_results(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, members) = w.group(1).await;
    let polls = install_polls(&w, &gid).await;
    let closes = NamedValue {
        name: "closes".into(),
        value: Typed::DateTime(qun_host::store::now_ms() + 2 * 3_600_000),
    };
    let poll = create_poll(
        &w,
        &gid,
        &polls,
        &owner.id,
        "Quick?",
        "yes, no",
        vec![closes],
    )
    .await;
    let timers = w.store().timers(&polls).await.expect("timers");
    assert_eq!(timers.len(), 1, "the closing time is a timer");
    assert!(timers[0].key.starts_with("close/"), "{timers:?}");
    w.action(
        &polls,
        &members[0].id,
        "vote",
        json!({"poll": poll, "choices": [0]}),
    )
    .await
    .expect("vote");

    // Two hours pass.
    let report = w
        .runtime
        .deliver_due(
            &qun_host::runtime::DeliveryConfig::default(),
            "test",
            timers[0].due_at,
        )
        .await
        .expect("deliver");
    // The closing timer and the card's refresh after the vote.
    assert_eq!(report.timers, 2);
    assert_eq!(report.parked + report.retried, 0, "{report:?}");
    let results = w
        .action(&polls, &owner.id, "results", json!({"poll": poll}))
        .await
        .expect("results");
    assert_eq!(results["closed"], json!(true));
    let messages = w.messages(&gid).await;
    assert_eq!(messages.len(), 2, "poll card and results");
    let err = w
        .action(
            &polls,
            &members[0].id,
            "vote",
            json!({"poll": poll, "choices": [1]}),
        )
        .await
        .expect_err("closed");
    assert!(matches!(err, InvokeError::App(_)));
}

/// `results` lists the ballots; a ballot added, changed or taken back
/// between that listing and the invocation's end makes it read again (the
/// page is compared by its summary, issue 12), so what the member is shown
/// always counts the ballots as they are.
async fn results_read_while_ballots_change_are_read_again(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, members) = w.group(3).await;
    let polls = install_polls(&w, &gid).await;
    let multiple = NamedValue {
        name: "multiple".into(),
        value: Typed::Checkbox(true),
    };
    let poll = create_poll(
        &w,
        &gid,
        &polls,
        &owner.id,
        "Which?",
        "a, b, c",
        vec![multiple],
    )
    .await;
    let vote = |who: usize, body: Value| {
        let (w, polls, voter) = (&w, polls.clone(), members[who].id.clone());
        async move {
            w.action(&polls, &voter, "vote", body).await.expect("vote");
        }
    };
    vote(0, json!({"poll": poll, "choices": [0]})).await;
    vote(1, json!({"poll": poll, "choices": [1]})).await;

    // Each change lands while `results` is between its listing and its end.
    let changes = [
        // A new ballot.
        (2, json!({"poll": poll, "choices": [2]}), [1, 1, 1]),
        // A ballot changed (same key, same number of ballots).
        (0, json!({"poll": poll, "choices": [1]}), [0, 2, 1]),
        // A ballot taken back (its key deleted).
        (
            2,
            json!({"poll": poll, "choices": [2], "toggle": true}),
            [0, 2, 0],
        ),
    ];
    for (who, body, expected) in changes {
        let mut reached = w.pause_before_commit();
        let results = w.runtime.invoke(Invocation {
            installation_id: polls.clone(),
            actor: Some(owner.id.clone()),
            call: Call::Action {
                name: "results".into(),
                payload: json!({"poll": poll}).to_string(),
                value: None,
                message_id: None,
            },
            invocation_id: None,
        });
        let change = async {
            let (_, go) = reached.recv().await.expect("results paused");
            w.runtime.set_before_commit(None);
            vote(who, body.clone()).await;
            let _ = go.send(());
        };
        let (outcome, ()) = tokio::join!(results, change);
        let outcome = outcome.expect("results");
        assert_eq!(outcome.attempts, 2, "read again after {body}");
        let Answer::Action { data, .. } = outcome.answer else {
            panic!("results answered {:?}", outcome.answer);
        };
        let data: Value = serde_json::from_str(&data).expect("JSON");
        assert_eq!(votes(&data), expected, "after {body}");
    }
}
