//! The first-party polls app, built from source, driven through `invoke`.

use qun_host::{Answer, InvokeError};
use qun_tests::{Backend, World, app_error, backend_tests};
use serde_json::{Value, json};

backend_tests!(
    a_poll_is_created_voted_revoted_and_closed,
    anonymous_polls_reveal_no_voter,
    a_hundred_members_vote_at_once_and_every_ballot_counts,
    the_closing_timer_closes_the_poll_and_posts_results,
);

/// Create a poll as `actor`; returns its id (read from the card's buttons).
async fn create_poll(w: &World, inst: &str, actor: &str, args: &str) -> String {
    let outcome = w
        .command(inst, actor, "poll", args)
        .await
        .expect("create poll");
    let Answer::Reply(Some(reply)) = outcome.answer else {
        panic!("no poll card: {:?}", outcome.answer)
    };
    let card = reply.card.expect("the reply is a card");
    card["buttons"][0]["payload"]["poll"]
        .as_str()
        .expect("poll id in the button payload")
        .to_string()
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
    let polls = w
        .install(
            qun_tests::polls(),
            &gid,
            &["membership", "messaging", "storage", "scheduler"],
        )
        .await;
    let creator = &members[3];

    let poll = create_poll(
        &w,
        &polls,
        &creator.id,
        "Lunch? | noodles | dumplings | rice",
    )
    .await;
    let card = &w.messages(&gid).await[0];
    assert_eq!(
        card.card.as_ref().expect("card")["buttons"]
            .as_array()
            .map(Vec::len),
        Some(3)
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
    let results_card = messages[1].card.as_ref().expect("results card");
    assert!(
        results_card["title"]
            .as_str()
            .is_some_and(|t| t.contains("Lunch?")),
        "{results_card}"
    );

    // A group admin may close another member's poll.
    w.store()
        .add_member(&gid, &members[0].id, qun_host::store::Role::Admin)
        .await
        .expect("promote");
    let second = create_poll(&w, &polls, &creator.id, "Again? | yes | no").await;
    w.action(&polls, &members[0].id, "close", json!({"poll": second}))
        .await
        .expect("admin closes");
}

async fn anonymous_polls_reveal_no_voter(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let (gid, owner, members) = w.group(3).await;
    let polls = w
        .install(
            qun_tests::polls(),
            &gid,
            &["membership", "messaging", "storage", "scheduler"],
        )
        .await;
    let poll = create_poll(
        &w,
        &polls,
        &owner.id,
        "Rate the trip | good | bad --anonymous",
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
        everything.push(format!("{:?} {:?}", m.text, m.card));
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
    let polls = w
        .install(
            qun_tests::polls(),
            &gid,
            &["membership", "messaging", "storage", "scheduler"],
        )
        .await;
    let poll = create_poll(&w, &polls, &owner.id, "Best day? | Mon | Tue | Wed").await;
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
    let polls = w
        .install(
            qun_tests::polls(),
            &gid,
            &["membership", "messaging", "storage", "scheduler"],
        )
        .await;
    let poll = create_poll(&w, &polls, &owner.id, "Quick? | yes | no --closes 2h").await;
    let timers = w.store().timers(&polls).await.expect("timers");
    assert_eq!(timers.len(), 1, "the closing time is a timer");
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
    assert_eq!(report.timers, 1);
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
