//! The polls app run against the SDK's in-memory host.

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

fn create(g: &mut TestGroup<Polls>, actor: &str, line: &str) -> Message {
    g.command(actor, line)
        .expect("poll created")
        .expect("a reply")
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
fn describes_itself() {
    let info = group().describe();
    assert_eq!(
        (
            info.name.as_str(),
            info.title.as_str(),
            info.version.as_str()
        ),
        ("polls", "Polls", "0.1.0")
    );
    assert_eq!(
        info.commands
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        ["poll"]
    );
    assert_eq!(
        info.actions
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>(),
        ["vote", "close", "results"]
    );
}

#[test]
fn creating_a_poll_replies_with_a_card_of_vote_buttons() {
    let mut g = group();
    let message = create(
        &mut g,
        "u-ann",
        "/poll Lunch? | Noodles | Rice | \"Soup | salad\"",
    );
    assert!(
        message.text.as_deref().is_some_and(|t| t.contains("#1")),
        "{message:?}"
    );
    let card = message.card.expect("a card");
    assert_eq!(card.title, "Lunch?");
    let labels: Vec<&str> = card.buttons.iter().map(|b| b.label.as_str()).collect();
    assert_eq!(labels, ["Noodles", "Rice", "Soup | salad"]);
    assert!(card.buttons.iter().all(|b| b.action == "vote"));
    assert_eq!(card.buttons[2].payload, r#"{"poll":"1","choices":[2]}"#);
    assert!(g.timers().is_empty());
    let second = create(&mut g, "u-bob", "/poll Again? | yes | no");
    assert_eq!(
        second.card.expect("card").buttons[0].payload,
        r#"{"poll":"2","choices":[0]}"#
    );
}

#[test]
fn bad_polls_are_invalid_with_a_hint() {
    let mut g = group();
    let too_many = format!(
        "/poll Q? | {}",
        (1..=11)
            .map(|i| format!("o{i}"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    for line in [
        "/poll",
        "/poll Only a question?",
        "/poll Q? | one",
        "/poll Q? | a | A",
        "/poll Q? | a || b",
        "/poll Q? | a | b --closes",
        "/poll Q? | a | b --closes yesterday",
        "/poll Q? | a | b --closes 2020-01-01T00:00:00Z",
        "/poll Q? | a | b --colour red",
        too_many.as_str(),
    ] {
        let err = g.command("u-ann", line).expect_err(line);
        assert_eq!(err.code(), "invalid", "{line}: {err}");
    }
    assert!(g.storage().is_empty());
}

#[test]
fn members_vote_once_and_a_revote_replaces_the_ballot() {
    let mut g = group();
    create(&mut g, "u-ann", "/poll Lunch? | Noodles | Rice");
    let card = g.last_posted().and_then(|m| m.card.clone()).expect("card");
    g.click("u-ann", &card.buttons[0]).expect("ann votes");
    vote(&mut g, "u-bob", "1", &[1]).expect("bob votes");
    assert_eq!(
        vote(&mut g, "u-cat", "1", &[0]).expect("cat votes")["ok"],
        json!(true)
    );
    vote(&mut g, "u-ann", "1", &[1]).expect("ann changes her mind");
    let r = results(&mut g, "1");
    assert_eq!(
        r,
        json!({
            "poll": "1", "question": "Lunch?", "closed": false, "anonymous": false, "multiple": false,
            "total_ballots": 3,
            "options": [
                {"label": "Noodles", "votes": 1, "voters": ["u-cat"]},
                {"label": "Rice", "votes": 2, "voters": ["u-ann", "u-bob"]},
            ]
        })
    );
}

#[test]
fn invalid_choices_are_refused() {
    let mut g = group();
    create(&mut g, "u-ann", "/poll Q? | a | b | c");
    create(&mut g, "u-ann", "/poll Many? | a | b | c --multiple");
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
    assert_eq!(
        code(g.action("u-bob", "vote", json!({"poll": "1"}))),
        "invalid"
    );
    assert_eq!(code(g.action("u-bob", "vote", json!("1"))), "invalid");
    vote(&mut g, "u-bob", "2", &[2, 0]).expect("multiple choice");
    assert_eq!(results(&mut g, "2")["options"][2]["votes"], json!(1));
    assert_eq!(results(&mut g, "1")["total_ballots"], json!(0));
}

#[test]
fn only_the_creator_or_an_admin_closes_a_poll() {
    let mut g = group();
    for _ in 0..3 {
        create(&mut g, "u-ann", "/poll Q? | a | b");
    }
    vote(&mut g, "u-bob", "1", &[1]).expect("votes");
    assert_eq!(
        code(g.action("u-bob", "close", json!({"poll": "1"}))),
        "denied"
    );
    let closed = g
        .action("u-ann", "close", json!({"poll": "1"}))
        .expect("creator closes");
    assert_eq!(closed["closed"], json!(true));
    assert_eq!(closed["options"][1]["voters"], json!(["u-bob"]));
    let card = g
        .last_posted()
        .and_then(|m| m.card.clone())
        .expect("results posted");
    assert_eq!(card.title, "Results: Q?");
    assert_eq!(card.fields[0].name, "a");
    assert_eq!(card.fields[0].value, "0 votes");
    assert_eq!(card.fields[1].value, "1 vote: Bob");
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
    create(&mut g, "u-owner", "/poll Secret? | yes | no --anonymous");
    vote(&mut g, "u-ann", "1", &[0]).expect("votes");
    vote(&mut g, "u-bob", "1", &[1]).expect("votes");
    vote(&mut g, "u-cat", "1", &[1]).expect("votes");
    vote(&mut g, "u-ann", "1", &[1]).expect("revotes");
    let r = results(&mut g, "1");
    assert_eq!(r["total_ballots"], json!(3));
    assert_eq!(r["options"][1], json!({"label": "no", "votes": 3}));
    let closed = g
        .action("u-owner", "close", json!({"poll": "1"}))
        .expect("closes");

    let mut seen = format!("{r} {closed} {:?} {:?}", g.posted(), g.logs());
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
    let mut g = group();
    let start = g.now();
    let message = create(&mut g, "u-ann", "/poll Soon? | a | b --closes 2h");
    let closes = message
        .card
        .expect("card")
        .fields
        .into_iter()
        .find(|f| f.name == "Closes")
        .expect("field");
    assert_eq!(
        closes.value,
        (start + Duration::from_secs(7200)).to_string()
    );
    let timers = g.timers();
    assert_eq!(timers.len(), 1);
    assert_eq!(
        (timers[0].key.as_str(), timers[0].payload.as_str()),
        ("close/1", r#"{"poll":"1"}"#)
    );
    vote(&mut g, "u-bob", "1", &[0]).expect("votes");

    assert_eq!(
        g.advance(Duration::from_secs(7199)).expect("nothing due"),
        0
    );
    assert_eq!(g.advance(Duration::from_secs(1)).expect("fires"), 1);
    assert_eq!(results(&mut g, "1")["closed"], json!(true));
    let card = g
        .last_posted()
        .and_then(|m| m.card.clone())
        .expect("results posted");
    assert_eq!(card.title, "Results: Soon?");
    assert_eq!(card.fields[0].value, "1 vote: Bob");
    assert_eq!(code(vote(&mut g, "u-cat", "1", &[1])), "invalid");
}

#[test]
fn closing_by_hand_cancels_the_timer() {
    let mut g = group();
    create(
        &mut g,
        "u-ann",
        "/poll Q? | a | b --closes 2026-01-02T00:00:00+08:00",
    );
    assert_eq!(g.timers()[0].at.to_string(), "2026-01-01T16:00:00Z");
    g.action("u-ann", "close", json!({"poll": "1"}))
        .expect("closes");
    assert!(g.timers().is_empty());
    assert_eq!(g.posted().len(), 2);
}

#[test]
fn nothing_is_kept_when_a_capability_is_withheld() {
    let mut g = group().without(Capability::Scheduler);
    assert_eq!(
        code(g.command("u-ann", "/poll Q? | a | b --closes 1d")),
        "denied"
    );
    assert!(g.storage().is_empty());
    let mut g = group().without(Capability::Messaging);
    create(&mut g, "u-ann", "/poll Q? | a | b");
    assert_eq!(
        code(g.action("u-ann", "close", json!({"poll": "1"}))),
        "denied"
    );
    assert_eq!(results(&mut g, "1")["closed"], json!(false));

    let mut g = group().without(Capability::Membership);
    create(&mut g, "u-ann", "/poll Q? | a | b --closes 1h");
    vote(&mut g, "u-bob", "1", &[1]).expect("votes");
    assert_eq!(
        code(g.action("u-admin", "close", json!({"poll": "1"}))),
        "denied"
    );
    g.advance(Duration::from_secs(3600))
        .expect("the timer still closes it");
    let card = g
        .last_posted()
        .and_then(|m| m.card.clone())
        .expect("results posted");
    assert_eq!(card.fields[1].value, "1 vote: u-bob");
}
