//! The polls app run against the SDK's in-memory host: what members see.

use std::time::Duration;

use qun_sdk::prelude::*;
use qun_sdk::testing::{Capability, TestGroup};

use crate::Polls;

fn group() -> TestGroup<Polls> {
    TestGroup::new()
        .member("u-owner", "Olga", Role::Owner)
        .member("u-admin", "Adam", Role::Admin)
        .member("u-ann", "Ann", Role::Member)
        .member("u-bob", "Bob", Role::Member)
        .member("u-cat", "Cat", Role::Member)
}

/// Starts a poll; the id of its card.
fn create(g: &mut TestGroup<Polls>, actor: &str, line: &str) -> MessageId {
    g.command(actor, line).expect("poll created");
    g.last_posted_id().expect("a card")
}

fn card(g: &TestGroup<Polls>, id: &MessageId) -> Message {
    g.message_for("u-cat", id)
        .cloned()
        .expect("everyone sees the card")
}

/// Lets the card's refresh timer fire (votes refresh it within half a second).
fn settle(g: &mut TestGroup<Polls>) {
    g.advance(Duration::from_secs(1))
        .expect("the card refreshes");
}

fn vote(g: &mut TestGroup<Polls>, actor: &str, poll: &str, choices: &[usize]) -> Result<Json> {
    g.action(actor, "vote", json!({ "poll": poll, "choices": choices }))
}

fn results(g: &mut TestGroup<Polls>, poll: &str) -> Json {
    g.action("u-ann", "results", json!({ "poll": poll }))
        .expect("results")
}

fn code(result: Result<impl std::fmt::Debug>) -> &'static str {
    result.expect_err("an error").code()
}

#[test]
fn describes_itself_with_typed_options() {
    let info = group().describe();
    assert_eq!(
        (info.name.as_str(), info.title.as_str()),
        ("polls", "Polls")
    );
    let poll = &info.commands[0];
    assert_eq!(poll.name, "poll");
    let options: Vec<&str> = poll.options.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        options,
        ["question", "options", "multiple", "anonymous", "closes"]
    );
    assert_eq!(
        info.actions
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>(),
        ["vote", "mine", "close", "results"]
    );
}

#[test]
fn the_card_shows_live_counts_after_every_vote() {
    let mut g = group();
    let id = create(&mut g, "u-ann", "/poll Lunch? | Noodles, Rice, Soup");
    let first = card(&g, &id);
    assert_eq!(first.title(), Some("Lunch?"));
    let labels: Vec<&str> = first.buttons().iter().map(|b| b.label.as_str()).collect();
    assert_eq!(
        labels,
        ["Noodles", "Rice", "Soup", "My vote", "Results", "Close"]
    );
    assert_eq!(first.field("Rice"), Some("0 votes"));

    g.click("u-ann", &id, "Rice").expect("ann votes");
    g.click("u-bob", &id, "Rice").expect("bob votes");
    g.click("u-cat", &id, "Noodles").expect("cat votes");
    // The votes are counted on the card once, when its refresh slot ends.
    assert_eq!(card(&g, &id).field("Rice"), Some("0 votes"));
    assert_eq!(g.timers().len(), 1, "one pending refresh for three votes");
    settle(&mut g);
    assert!(g.timers().is_empty());
    let now = card(&g, &id);
    assert_eq!(now.field("Rice"), Some("2 votes"));
    assert_eq!(now.field("Noodles"), Some("1 vote"));
    assert!(now.rendered().contains("3 ballots"), "{}", now.rendered());
    // A revote replaces the ballot; the card follows.
    g.click("u-ann", &id, "Noodles")
        .expect("ann changes her mind");
    settle(&mut g);
    let now = card(&g, &id);
    assert_eq!(
        (now.field("Noodles"), now.field("Rice")),
        (Some("2 votes"), Some("1 vote"))
    );
    assert_eq!(g.posted().len(), 1, "one card, updated in place");
    assert_eq!(
        results(&mut g, "1"),
        json!({
            "poll": "1", "question": "Lunch?", "closed": false, "anonymous": false, "multiple": false,
            "total_ballots": 3,
            "options": [
                {"label": "Noodles", "votes": 2, "voters": ["u-ann", "u-cat"]},
                {"label": "Rice", "votes": 1, "voters": ["u-bob"]},
                {"label": "Soup", "votes": 0, "voters": []},
            ]
        })
    );
}

#[test]
fn my_vote_is_a_private_reply_for_that_member_only() {
    let mut g = group();
    let id = create(&mut g, "u-ann", "/poll Lunch? | Noodles, Rice");
    g.click("u-bob", &id, "Rice").expect("votes");
    let reply = g.click("u-bob", &id, "My vote").expect("answers");
    let Reply::Private(message) = reply else {
        panic!("not private: {reply:?}")
    };
    assert!(
        message.text.contains("Your vote in poll #1: Rice"),
        "{}",
        message.text
    );
    assert_eq!(g.private_replies("u-bob").len(), 1);
    for other in ["u-ann", "u-cat", "u-owner"] {
        assert!(g.private_replies(other).is_empty(), "{other} sees it");
        assert!(
            g.timeline(other)
                .iter()
                .all(|p| !p.message.text.contains("Your vote")),
            "{other} sees bob's reply"
        );
    }
    let reply = g.click("u-cat", &id, "My vote").expect("answers");
    assert!(
        reply
            .message_ref()
            .is_some_and(|m| m.text.contains("not voted"))
    );
}

#[test]
fn a_poll_without_its_question_or_options_opens_the_poll_form() {
    let mut g = group();
    let reply = g.command("u-ann", "/poll").expect("a form");
    let form = reply.as_form().expect("the poll form");
    assert!(form.input_named("question").is_some_and(|i| i.required));
    assert!(g.posted().is_empty(), "nothing posted yet");
    let errors = g
        .submit("u-ann", json!({"question": "Lunch?"}))
        .expect("checked");
    assert_eq!(errors.errors()[0].input, "options");
    let err = g
        .submit(
            "u-ann",
            json!({"question": "Lunch?", "options": "only one"}),
        )
        .expect_err("the app refuses one option");
    assert!(err.message().contains("options"), "{err}");
    g.submit(
        "u-ann",
        json!({"question": "Lunch?", "options": "Noodles\nRice, with egg", "multiple": true}),
    )
    .expect("created from the form");
    let id = g.last_posted_id().expect("card");
    let labels: Vec<String> = card(&g, &id)
        .buttons()
        .iter()
        .map(|b| b.label.clone())
        .collect();
    assert_eq!(labels[..2], ["Noodles", "Rice, with egg"]);
}

#[test]
fn bad_polls_are_refused_naming_the_option() {
    let mut g = group();
    let too_many = format!(
        "/poll Q? | {}",
        (1..=11)
            .map(|i| format!("o{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (line, named) in [
        ("/poll Q? | one", "options"),
        ("/poll Q? | a, A", "options"),
        ("/poll Q? | a, b | multiple: perhaps", "multiple"),
        ("/poll Q? | a, b | closes: someday", "closes"),
        ("/poll Q? | a, b | closes: 2020-01-01 10:00", "closes"),
        (too_many.as_str(), "options"),
    ] {
        let err = g.command("u-ann", line).expect_err(line);
        assert_eq!(err.code(), "invalid", "{line}: {err}");
        assert!(err.message().contains(named), "{line}: {err}");
    }
    assert!(g.storage().is_empty());
}

#[test]
fn multiple_choice_buttons_add_and_remove_choices() {
    let mut g = group();
    let id = create(
        &mut g,
        "u-ann",
        "/poll Snacks? | Tea, Cake, Fruit | multiple: yes",
    );
    g.click("u-bob", &id, "Tea").expect("adds");
    g.click("u-bob", &id, "Cake").expect("adds");
    settle(&mut g);
    let now = card(&g, &id);
    assert_eq!(
        (now.field("Tea"), now.field("Cake")),
        (Some("1 vote"), Some("1 vote"))
    );
    g.click("u-bob", &id, "Tea").expect("removes");
    settle(&mut g);
    assert_eq!(card(&g, &id).field("Tea"), Some("0 votes"));
    assert_eq!(results(&mut g, "1")["total_ballots"], json!(1));
}

#[test]
fn invalid_choices_are_refused() {
    let mut g = group();
    create(&mut g, "u-ann", "/poll Q? | a, b, c");
    create(&mut g, "u-ann", "/poll Many? | a, b, c | multiple: yes");
    for (poll, choices) in [
        ("1", &[][..]),
        ("1", &[3][..]),
        ("1", &[0, 1][..]),
        ("2", &[1, 1][..]),
        ("2", &[0, 9][..]),
    ] {
        assert_eq!(
            code(vote(&mut g, "u-bob", poll, choices)),
            "invalid",
            "{poll} {choices:?}"
        );
    }
    assert_eq!(code(vote(&mut g, "u-bob", "9", &[0])), "not-found");
    let err = g
        .action("u-bob", "vote", json!({"poll": "1"}))
        .expect_err("no choices");
    assert!(err.message().contains("choices"), "{err}");
    let err = g
        .action("u-bob", "vote", json!({"poll": 1, "choices": [0]}))
        .expect_err("a number");
    assert!(err.message().contains("poll"), "{err}");
    vote(&mut g, "u-bob", "2", &[2, 0]).expect("multiple choice");
    assert_eq!(results(&mut g, "2")["options"][2]["votes"], json!(1));
    assert_eq!(results(&mut g, "1")["total_ballots"], json!(0));
}

#[test]
fn only_the_creator_or_an_admin_closes_a_poll() {
    let mut g = group();
    let id = create(&mut g, "u-ann", "/poll Q? | a, b");
    create(&mut g, "u-ann", "/poll Q2? | a, b");
    create(&mut g, "u-ann", "/poll Q3? | a, b");
    vote(&mut g, "u-bob", "1", &[1]).expect("votes");
    assert_eq!(code(g.click("u-bob", &id, "Close")), "denied");
    g.click("u-ann", &id, "Close").expect("creator closes");
    let results_card = g.last_posted().cloned().expect("results posted");
    assert_eq!(results_card.title(), Some("Results: Q?"));
    assert_eq!(results_card.field("a"), Some("0 votes"));
    assert_eq!(results_card.field("b"), Some("1 vote: Bob"));
    // The poll's own card shows it closed, without buttons.
    let closed = card(&g, &id);
    assert!(closed.buttons().is_empty());
    assert!(closed.rendered().contains("closed"));
    assert_eq!(
        code(g.action("u-ann", "close", json!({"poll": "1"}))),
        "invalid"
    );
    assert_eq!(code(vote(&mut g, "u-cat", "1", &[0])), "invalid");
    g.action("u-admin", "close", json!({"poll": "2"}))
        .expect("admin closes");
    g.action("u-owner", "close", json!({"poll": "3"}))
        .expect("owner closes");
    assert_eq!(
        code(g.action("u-ann", "close", json!({"poll": "4"}))),
        "not-found"
    );
}

#[test]
fn anonymous_polls_never_name_a_voter() {
    let mut g = group();
    let id = create(
        &mut g,
        "u-owner",
        "/poll Secret? | yes, no | anonymous: yes",
    );
    g.click("u-ann", &id, "yes").expect("votes");
    g.click("u-bob", &id, "no").expect("votes");
    g.click("u-cat", &id, "no").expect("votes");
    g.click("u-ann", &id, "no").expect("revotes");
    settle(&mut g);
    assert_eq!(card(&g, &id).field("no"), Some("3 votes"));
    let r = results(&mut g, "1");
    assert_eq!(r["options"][1], json!({"label": "no", "votes": 3}));
    g.click("u-ann", &id, "My vote").expect("mine");
    let closed = g
        .action("u-owner", "close", json!({"poll": "1"}))
        .expect("closes");

    // What anyone reads (messages, private replies included), answers, logs.
    let read: Vec<String> = g.messages().iter().map(|p| p.message.rendered()).collect();
    let mut seen = format!("{r} {closed} {read:?} {:?}", g.logs());
    for (key, value) in g.storage() {
        if key.starts_with("ballot/") {
            seen.push_str(&format!(" {key} {}", String::from_utf8_lossy(value)));
        }
    }
    for (id, name) in [("u-ann", "Ann"), ("u-bob", "Bob"), ("u-cat", "Cat")] {
        assert!(
            !seen.contains(id) && !seen.contains(name),
            "{id} shows in {seen}"
        );
    }
}

#[test]
fn a_closing_time_closes_the_poll_and_posts_results() {
    let mut g = group().zone("Asia/Shanghai", "zh-CN");
    // Typed in the group's zone: 2026-01-01 10:00 in Shanghai is 02:00 UTC.
    let id = create(
        &mut g,
        "u-ann",
        "/poll Soon? | a, b | closes: 2026-01-01 10:00",
    );
    let timers = g.timers();
    assert_eq!(timers.len(), 1);
    assert_eq!(timers[0].at.to_string(), "2026-01-01T02:00:00Z");
    assert_eq!(
        (timers[0].key.as_str(), timers[0].payload.as_str()),
        ("close/1", r#"{"poll":"1"}"#)
    );
    assert!(
        card(&g, &id)
            .rendered()
            .contains("closes 2026-01-01 10:00 (Asia/Shanghai)")
    );
    g.click("u-bob", &id, "a").expect("votes");

    assert_eq!(
        g.advance(Duration::from_secs(7199))
            .expect("only the card's refresh"),
        1
    );
    assert_eq!(g.advance(Duration::from_secs(1)).expect("fires"), 1);
    assert_eq!(results(&mut g, "1")["closed"], json!(true));
    let posted = g.last_posted().cloned().expect("results posted");
    assert_eq!(posted.title(), Some("Results: Soon?"));
    assert_eq!(posted.field("a"), Some("1 vote: Bob"));
    assert_eq!(code(vote(&mut g, "u-cat", "1", &[1])), "invalid");
}

#[test]
fn closing_by_hand_cancels_the_timer() {
    let mut g = group();
    create(&mut g, "u-ann", "/poll Q? | a, b | closes: in 1d");
    assert_eq!(g.timers()[0].at.to_string(), "2026-01-02T00:00:00Z");
    g.action("u-ann", "close", json!({"poll": "1"}))
        .expect("closes");
    assert!(g.timers().is_empty());
    assert_eq!(g.posted().len(), 2);
}

#[test]
fn nothing_is_kept_when_a_capability_is_withheld() {
    let mut g = group().without(Capability::Scheduler);
    assert_eq!(
        code(g.command("u-ann", "/poll Q? | a, b | closes: in 1d")),
        "denied"
    );
    assert!(g.storage().is_empty());

    // Without messaging the card is the command's reply (not live), and
    // closing (which posts the results) is refused.
    let mut g = group().without(Capability::Messaging);
    let reply = g.command("u-ann", "/poll Q? | a, b").expect("a reply");
    assert!(matches!(reply, Reply::Post(_)));
    vote(&mut g, "u-bob", "1", &[0]).expect("votes still count");
    assert_eq!(
        code(g.action("u-ann", "close", json!({"poll": "1"}))),
        "denied"
    );
    assert_eq!(results(&mut g, "1")["closed"], json!(false));

    let mut g = group().without(Capability::Membership);
    create(&mut g, "u-ann", "/poll Q? | a, b | closes: in 1h");
    vote(&mut g, "u-bob", "1", &[1]).expect("votes");
    assert_eq!(
        code(g.action("u-admin", "close", json!({"poll": "1"}))),
        "denied"
    );
    g.advance(Duration::from_secs(3600))
        .expect("the timer still closes it");
    assert_eq!(
        g.last_posted().and_then(|m| m.field("b")),
        Some("1 vote: u-bob")
    );
}
