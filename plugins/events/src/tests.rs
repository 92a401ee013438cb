//! The events app run against the SDK's in-memory host.

use std::time::Duration;

use qun_sdk::payments::PaymentStatus;
use qun_sdk::prelude::*;
use qun_sdk::testing::{Capability, TestGroup};

use crate::Events;

const HOUR: Duration = Duration::from_secs(3600);

fn group() -> TestGroup<Events> {
    TestGroup::new()
        .member("u-owner", "Olga", Role::Owner)
        .member("u-admin", "Adam", Role::Admin)
        .member("u-org", "Oscar", Role::Member)
        .member("u-ann", "Ann", Role::Member)
        .member("u-bob", "Bob", Role::Member)
        .member("u-cat", "Cat", Role::Member)
}

/// The organizer types `line`; the card everyone sees.
fn create(g: &mut TestGroup<Events>, line: &str) -> Message {
    g.command("u-org", line).expect("event created");
    g.last_posted().cloned().expect("the card")
}

/// The event's card as it stands.
fn card(g: &TestGroup<Events>) -> Message {
    let id = g
        .messages()
        .iter()
        .find(|p| p.visible_to.is_none())
        .map(|p| p.id.clone())
        .expect("a card");
    g.message_for("u-cat", &id)
        .cloned()
        .expect("everyone sees it")
}

fn rsvp(g: &mut TestGroup<Events>, actor: &str, event: &str) -> Result<Json> {
    g.action(actor, "rsvp", json!({ "event": event }))
}

fn cancel(g: &mut TestGroup<Events>, actor: &str, event: &str) -> Result<Json> {
    g.action(actor, "cancel", json!({ "event": event }))
}

fn attendees(g: &mut TestGroup<Events>, event: &str) -> Json {
    g.action("u-org", "attendees", json!({ "event": event }))
        .expect("attendees")
}

fn status(answer: &Json) -> &str {
    answer["status"].as_str().unwrap_or("?")
}

/// Member ids of the seats, and of the waitlist, as `attendees` shows them.
fn roster(g: &mut TestGroup<Events>, event: &str) -> (Vec<(String, String)>, Vec<String>) {
    let view = attendees(g, event);
    let seats = view["attendees"]
        .as_array()
        .expect("attendees")
        .iter()
        .map(|a| {
            (
                a["member"].as_str().unwrap_or("?").to_owned(),
                a["status"].as_str().unwrap_or("?").to_owned(),
            )
        })
        .collect();
    let waitlist = view["waitlist"]
        .as_array()
        .expect("waitlist")
        .iter()
        .map(|w| w["member"].as_str().unwrap_or("?").to_owned())
        .collect();
    (seats, waitlist)
}

fn seats(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(m, s)| ((*m).to_owned(), (*s).to_owned()))
        .collect()
}

fn dms_to(g: &TestGroup<Events>, member: &str) -> Vec<String> {
    g.direct_messages()
        .iter()
        .filter(|(to, _)| to == member)
        .map(|(_, m)| m.text.clone())
        .collect()
}

fn payment_of(answer: &Json) -> String {
    answer["payment"]["id"]
        .as_str()
        .expect("a payment id")
        .to_owned()
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
        ("events", "Events", env!("CARGO_PKG_VERSION"))
    );
    let event = &info.commands[0];
    assert_eq!(event.name, "event");
    let options: Vec<(&str, bool)> = event
        .options
        .iter()
        .map(|o| (o.name.as_str(), o.required))
        .collect();
    assert_eq!(
        options,
        [
            ("title", true),
            ("when", true),
            ("capacity", true),
            ("price", false),
            ("cutoff", false)
        ]
    );
    assert_eq!(
        info.actions
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>(),
        ["rsvp", "cancel", "attendees"]
    );
}

#[test]
fn creating_an_event_posts_a_card_and_schedules_the_reminder() {
    let mut g = group();
    let card = create(&mut g, "/event Board games | in 2d | 8 | 25.50 CNY");
    assert_eq!(card.title(), Some("Board games"));
    assert_eq!(card.field("Starts"), Some("2026-01-03 00:00 (UTC)"));
    assert_eq!(card.field("Seats"), Some("8 of 8 left"));
    assert_eq!(card.field("Waitlist"), Some("nobody waiting"));
    assert_eq!(card.field("Fee"), Some("25.50 CNY"));
    assert_eq!(
        card.field("Refunds"),
        Some("on cancelling before 2026-01-02 00:00 (UTC)")
    );
    assert_eq!(card.field("Organizer"), Some("Oscar"));
    let buttons: Vec<(&str, &str)> = card
        .buttons()
        .iter()
        .map(|b| (b.action.as_str(), b.payload.as_str()))
        .collect();
    assert_eq!(
        buttons,
        [("rsvp", r#"{"event":"1"}"#), ("cancel", r#"{"event":"1"}"#)]
    );
    let timers = g.timers();
    assert_eq!(timers.len(), 1);
    assert_eq!(timers[0].key, "remind/1");
    assert_eq!(timers[0].at.to_string(), "2026-01-02T22:00:00Z");

    let second = create(
        &mut g,
        "/event Picnic | 2026-02-01T10:00:00+08:00 | 30 | cutoff: 2d",
    );
    assert_eq!(second.title(), Some("Picnic"));
    let view = attendees(&mut g, "2");
    assert_eq!(view["starts_at"], json!("2026-02-01T02:00:00Z"));
    assert_eq!(view["fee"], Json::Null);
    assert_eq!(view["capacity"], json!(30));
    assert_eq!(view["organizer"], json!("u-org"));
    // A free event states no refund cutoff.
    assert_eq!(second.field("Refunds"), None);
}

#[test]
fn the_card_shows_seats_left_and_the_waitlist_as_people_come_and_go() {
    let mut g = group().without(Capability::Payments);
    create(&mut g, "/event Hike | 2030-06-01 09:00 | 2");
    let id = g.last_posted_id().expect("card");
    g.click("u-ann", &id, "RSVP").expect("ann");
    assert_eq!(card(&g).field("Seats"), Some("1 of 2 left"));
    g.click("u-bob", &id, "RSVP").expect("bob");
    let reply = g.click("u-cat", &id, "RSVP").expect("cat waits");
    assert!(
        reply
            .message_ref()
            .is_some_and(|m| m.text.contains("waitlist")),
        "{reply:?}"
    );
    assert_eq!(g.private_replies("u-cat").len(), 1, "told privately");
    assert!(
        g.private_replies("u-ann")
            .iter()
            .all(|m| !m.text.contains("waitlist"))
    );
    let now = card(&g);
    assert_eq!(
        (now.field("Seats"), now.field("Waitlist")),
        (Some("full (2 seats)"), Some("1 waiting"))
    );
    // Bob cancels: Cat moves up, the card follows.
    g.click("u-bob", &id, "Cancel RSVP").expect("bob cancels");
    let now = card(&g);
    assert_eq!(
        (now.field("Seats"), now.field("Waitlist")),
        (Some("full (2 seats)"), Some("nobody waiting"))
    );
    g.click("u-ann", &id, "Cancel RSVP").expect("ann cancels");
    assert_eq!(card(&g).field("Seats"), Some("1 of 2 left"));
    assert_eq!(g.posted().len(), 1, "one card, updated in place");
}

#[test]
fn a_missing_option_opens_the_event_form_pre_filled() {
    let mut g = group();
    let reply = g
        .command("u-org", "/event Hike | 2030-06-01 09:00")
        .expect("a form");
    let form = reply.as_form().expect("the event form");
    let title = form.input_named("title").expect("title");
    assert!(
        matches!(&title.kind, qun_sdk::blocks::InputKind::Text(t) if t.initial.as_deref() == Some("Hike"))
    );
    assert!(g.posted().is_empty(), "the app has not run");
    // The host checks the values: capacity must be a whole number of at least 1.
    let errors = g
        .submit(
            "u-org",
            json!({"title": "Hike", "when": "2030-06-01 09:00", "capacity": "abc"}),
        )
        .expect("checked");
    assert_eq!(errors.errors()[0].input, "capacity");
    let errors = g
        .submit(
            "u-org",
            json!({"title": "Hike", "when": "2030-06-01 09:00", "capacity": 0}),
        )
        .expect("checked");
    assert_eq!(errors.errors()[0].input, "capacity");
    g.submit(
        "u-org",
        json!({"title": "Hike", "when": "2030-06-01 09:00", "capacity": 10}),
    )
    .expect("created");
    assert_eq!(card(&g).field("Seats"), Some("10 of 10 left"));
}

#[test]
fn bad_events_are_refused_naming_the_option() {
    let mut g = group();
    for (line, named) in [
        ("/event Title | 2d | 5 | 10 | cutoff: 1h | extra", "event"),
        ("/event Title | someday | 5", "when"),
        ("/event Title | 2020-01-01T00:00:00Z | 5", "when"),
        ("/event Title | 2d | 0", "capacity"),
        ("/event Title | 2d | -3", "capacity"),
        ("/event Title | 2d | five", "capacity"),
        ("/event Title | 2d | 99999999999", "capacity"),
        ("/event Title | 2d | 5 | -10", "price"),
        ("/event Title | 2d | 5 | 10.555", "price"),
        ("/event Title | 2d | 5 | 10 dollars", "price"),
        ("/event Title | 2d | 5 | cutoff: soon", "cutoff"),
    ] {
        let err = g.command("u-org", line).expect_err(line);
        assert_eq!(err.code(), "invalid", "{line}: {err}");
        assert!(err.message().contains(named), "{line}: {err}");
    }
    let long = format!("/event {} | 2d | 5", "x".repeat(201));
    assert_eq!(code(g.command("u-org", &long)), "invalid");
    // Missing values open the form instead.
    for line in ["/event", "/event Title only", "/event Title | 2d"] {
        assert!(
            g.command("u-org", line).expect(line).as_form().is_some(),
            "{line}"
        );
    }
    assert!(g.storage().is_empty());
    assert!(g.timers().is_empty());
}

#[test]
fn bad_payloads_are_invalid_and_unknown_events_not_found() {
    let mut g = group();
    create(&mut g, "/event Picnic | 2d | 5");
    for payload in [
        json!(null),
        json!({}),
        json!({"event": ""}),
        json!({"event": "one"}),
        json!({"event": "1; drop"}),
        json!({"event": -1}),
        json!({"event": [1]}),
    ] {
        for action in ["rsvp", "cancel", "attendees"] {
            let err = g
                .action("u-ann", action, payload.clone())
                .expect_err("refused");
            assert_eq!(err.code(), "invalid", "{action} {payload}: {err}");
        }
    }
    assert_eq!(code(rsvp(&mut g, "u-ann", "99")), "not-found");
    assert_eq!(code(cancel(&mut g, "u-ann", "99")), "not-found");
    // A number works as well as a string; `#1` too.
    assert_eq!(
        status(
            &g.action("u-ann", "rsvp", json!({"event": 1}))
                .expect("rsvp")
        ),
        "attending"
    );
    assert_eq!(
        status(
            &g.action("u-ann", "rsvp", json!({"event": "#1"}))
                .expect("rsvp")
        ),
        "attending"
    );
}

#[test]
fn free_rsvp_makes_an_attendee_without_payments() {
    let mut g = group().without(Capability::Payments);
    create(&mut g, "/event Picnic | 2d | 5");
    let answer = rsvp(&mut g, "u-ann", "1").expect("rsvp");
    assert_eq!(status(&answer), "attending");
    assert_eq!(answer["event"], json!("1"));
    assert_eq!(
        roster(&mut g, "1"),
        (seats(&[("u-ann", "attending")]), vec![])
    );
    assert!(g.payments().is_empty());
    let view = attendees(&mut g, "1");
    assert_eq!(view["attendees"][0]["name"], json!("Ann"));
    assert_eq!(view["attendees"][0]["payment"], Json::Null);
    assert_eq!(view["seats_left"], json!(4));
}

#[test]
fn rsvp_twice_answers_the_same_and_adds_no_one() {
    let mut g = group();
    create(&mut g, "/event Picnic | 2d | 1");
    let first = rsvp(&mut g, "u-ann", "1").expect("rsvp");
    assert_eq!(rsvp(&mut g, "u-ann", "1").expect("again"), first);
    let waiting = rsvp(&mut g, "u-bob", "1").expect("bob waits");
    assert_eq!(rsvp(&mut g, "u-bob", "1").expect("again"), waiting);
    assert_eq!(
        roster(&mut g, "1"),
        (seats(&[("u-ann", "attending")]), vec!["u-bob".to_owned()])
    );

    create(&mut g, "/event Dinner | 2d | 3 | 80");
    let paid = rsvp(&mut g, "u-ann", "2").expect("rsvp");
    assert_eq!(rsvp(&mut g, "u-ann", "2").expect("again"), paid);
    assert_eq!(g.payments().len(), 1, "one payment request");
    assert_eq!(
        roster(&mut g, "2"),
        (seats(&[("u-ann", "pending-payment")]), vec![])
    );
}

#[test]
fn a_full_event_waitlists_and_never_exceeds_its_capacity() {
    let mut g = group();
    create(&mut g, "/event Karaoke | 1d | 2");
    assert_eq!(
        status(&rsvp(&mut g, "u-ann", "1").expect("ann")),
        "attending"
    );
    assert_eq!(
        status(&rsvp(&mut g, "u-bob", "1").expect("bob")),
        "attending"
    );
    let cat = rsvp(&mut g, "u-cat", "1").expect("cat");
    assert_eq!(status(&cat), "waitlisted");
    assert_eq!(cat["position"], json!(1));
    assert!(cat["message"].as_str().is_some_and(|m| m.contains("full")));
    let admin = rsvp(&mut g, "u-admin", "1").expect("admin");
    assert_eq!(admin["position"], json!(2));
    let view = attendees(&mut g, "1");
    assert_eq!(view["seats_taken"], json!(2));
    assert_eq!(view["seats_left"], json!(0));
    assert_eq!(view["waitlist"][1]["name"], json!("Adam"));

    // Pending payments hold seats too.
    create(&mut g, "/event Dinner | 1d | 1 | 100");
    assert_eq!(
        status(&rsvp(&mut g, "u-ann", "2").expect("ann")),
        "pending-payment"
    );
    assert_eq!(
        status(&rsvp(&mut g, "u-bob", "2").expect("bob")),
        "waitlisted"
    );
    assert_eq!(g.payments().len(), 1);
}

#[test]
fn a_paid_rsvp_asks_for_payment_and_is_confirmed_when_it_settles() {
    let mut g = group();
    create(&mut g, "/event Dinner | 2d | 4 | 25.50");
    let answer = rsvp(&mut g, "u-ann", "1").expect("rsvp");
    assert_eq!(status(&answer), "pending-payment");
    assert_eq!(answer["payment"]["amount"], json!(2550));
    assert_eq!(answer["payment"]["currency"], json!("CNY"));
    assert_eq!(answer["payment"]["status"], json!("pending"));
    assert!(
        answer["message"]
            .as_str()
            .is_some_and(|m| m.contains("25.50 CNY"))
    );
    let id = payment_of(&answer);
    let payments = g.payments();
    assert_eq!(payments.len(), 1);
    assert_eq!(
        (
            payments[0].payer.as_str(),
            payments[0].amount,
            payments[0].currency.as_str(),
            payments[0].memo.as_str()
        ),
        ("u-ann", 2550, "CNY", "Event #1: Dinner")
    );

    g.settle_payment(&id).expect("settled");
    assert_eq!(
        roster(&mut g, "1"),
        (seats(&[("u-ann", "confirmed")]), vec![])
    );
    assert_eq!(
        attendees(&mut g, "1")["attendees"][0]["payment"],
        json!({"id": id, "amount": 2550, "currency": "CNY", "status": "settled"})
    );
    assert!(dms_to(&g, "u-ann")[0].contains("confirmed"));
    assert_eq!(
        status(&rsvp(&mut g, "u-ann", "1").expect("again")),
        "confirmed"
    );
    assert_eq!(g.payments().len(), 1);
    // Hearing the settlement twice changes nothing.
    let before = g.storage().clone();
    let payment = g.payments()[0].clone();
    g.event(Event::PaymentSettled(payment)).expect("again");
    assert_eq!(g.storage(), &before);
}

#[test]
fn a_failed_payment_releases_the_seat_to_the_waitlist() {
    let mut g = group();
    create(&mut g, "/event Dinner | 2d | 1 | 30");
    let ann = payment_of(&rsvp(&mut g, "u-ann", "1").expect("ann"));
    assert_eq!(
        status(&rsvp(&mut g, "u-bob", "1").expect("bob")),
        "waitlisted"
    );
    assert_eq!(
        status(&rsvp(&mut g, "u-cat", "1").expect("cat")),
        "waitlisted"
    );

    g.fail_payment(&ann, "declined").expect("failed");
    let (seats_now, waitlist) = roster(&mut g, "1");
    assert_eq!(seats_now, seats(&[("u-bob", "pending-payment")]));
    assert_eq!(waitlist, ["u-cat"]);
    assert!(dms_to(&g, "u-ann")[0].contains("declined"));
    let bob_dm = dms_to(&g, "u-bob");
    assert!(bob_dm[0].contains("pay 30.00 CNY"), "{bob_dm:?}");
    let bob_payment = g
        .payments()
        .into_iter()
        .find(|p| p.payer == "u-bob")
        .expect("bob is asked to pay");
    assert_eq!(bob_payment.status, PaymentStatus::Pending);

    // Ann may try again: a new request, and she waits behind Cat.
    let again = rsvp(&mut g, "u-ann", "1").expect("ann again");
    assert_eq!(status(&again), "waitlisted");
    g.fail_payment(&bob_payment.id, "expired").expect("expired");
    g.fail_payment(
        &g.payments()
            .into_iter()
            .find(|p| p.payer == "u-cat")
            .expect("cat asked")
            .id,
        "declined",
    )
    .expect("cat declines");
    let ann_again = g
        .payments()
        .into_iter()
        .filter(|p| p.payer == "u-ann")
        .collect::<Vec<_>>();
    assert_eq!(ann_again.len(), 2, "a fresh request for ann");
    let fresh = ann_again
        .iter()
        .find(|p| p.id != ann)
        .expect("a second request");
    assert_eq!(fresh.status, PaymentStatus::Pending);
    assert_eq!(
        roster(&mut g, "1"),
        (seats(&[("u-ann", "pending-payment")]), vec![])
    );
    let left = attendees(&mut g, "1")["left"].clone();
    // Ann holds a seat again, so only Bob and Cat are listed as gone.
    let gone: Vec<(&Json, &Json)> = left
        .as_array()
        .expect("left")
        .iter()
        .map(|l| (&l["member"], &l["reason"]))
        .collect();
    assert_eq!(
        gone,
        [
            (&json!("u-bob"), &json!("payment expired")),
            (&json!("u-cat"), &json!("payment declined"))
        ]
    );
}

#[test]
fn cancelling_before_the_cutoff_refunds_and_promotes() {
    let mut g = group();
    create(&mut g, "/event Dinner | 3d | 1 | 50 | cutoff: 24h");
    let ann = payment_of(&rsvp(&mut g, "u-ann", "1").expect("ann"));
    g.settle_payment(&ann).expect("paid");
    rsvp(&mut g, "u-bob", "1").expect("bob waits");

    let answer = cancel(&mut g, "u-ann", "1").expect("cancel");
    assert_eq!(status(&answer), "cancelled");
    assert_eq!(answer["was"], json!("confirmed"));
    assert_eq!(answer["refunded"], json!(5000));
    assert!(
        answer["message"]
            .as_str()
            .is_some_and(|m| m.contains("50.00 CNY is refunded"))
    );
    let paid = g
        .payments()
        .into_iter()
        .find(|p| p.id == ann)
        .expect("ann's payment");
    assert_eq!(paid.refunded, 5000);

    // Bob is promoted and asked to pay.
    assert_eq!(
        roster(&mut g, "1"),
        (seats(&[("u-bob", "pending-payment")]), vec![])
    );
    let bob_dm = dms_to(&g, "u-bob");
    assert_eq!(bob_dm.len(), 1);
    assert!(bob_dm[0].contains("A seat opened up") && bob_dm[0].contains("pay 50.00 CNY"));
    let bob = g
        .payments()
        .into_iter()
        .find(|p| p.payer == "u-bob")
        .expect("bob asked");
    assert_eq!((bob.amount, bob.status), (5000, PaymentStatus::Pending));
    let left = &attendees(&mut g, "1")["left"][0];
    assert_eq!(
        (&left["member"], &left["refunded"]),
        (&json!("u-ann"), &json!(5000))
    );
    // Not on the list any more.
    assert_eq!(code(cancel(&mut g, "u-ann", "1")), "not-found");
}

#[test]
fn a_free_cancellation_promotes_and_tells_the_promoted() {
    let mut g = group();
    create(&mut g, "/event Karaoke | 1d | 1");
    rsvp(&mut g, "u-ann", "1").expect("ann");
    rsvp(&mut g, "u-bob", "1").expect("bob");
    rsvp(&mut g, "u-cat", "1").expect("cat");
    // Leaving the waitlist promotes nobody.
    let cat = cancel(&mut g, "u-cat", "1").expect("cat leaves");
    assert_eq!(cat["was"], json!("waitlisted"));
    assert!(g.direct_messages().is_empty());
    let ann = cancel(&mut g, "u-ann", "1").expect("ann cancels");
    assert_eq!(ann["refunded"], json!(0));
    assert_eq!(
        roster(&mut g, "1"),
        (seats(&[("u-bob", "attending")]), vec![])
    );
    assert!(dms_to(&g, "u-bob")[0].contains("you are now attending"));
    assert!(g.payments().is_empty());
}

#[test]
fn cancelling_after_the_cutoff_refunds_nothing_and_says_so() {
    let mut g = group();
    create(&mut g, "/event Dinner | 2d | 2 | 50 | cutoff: 24h");
    let ann = payment_of(&rsvp(&mut g, "u-ann", "1").expect("ann"));
    g.settle_payment(&ann).expect("paid");
    g.advance(Duration::from_secs(30 * 3600)).expect("later");
    let answer = cancel(&mut g, "u-ann", "1").expect("cancel");
    assert_eq!(answer["refunded"], json!(0));
    assert_eq!(answer["refund_cutoff"], json!("2026-01-02T00:00:00Z"));
    let message = answer["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("not refunded") && message.contains("24h"),
        "{message}"
    );
    assert_eq!(g.payments()[0].refunded, 0);
    assert_eq!(roster(&mut g, "1"), (vec![], vec![]));
}

#[test]
fn a_payment_settling_after_its_seat_was_given_up_is_refunded() {
    let mut g = group();
    create(&mut g, "/event Dinner | 2d | 1 | 20");
    let ann = payment_of(&rsvp(&mut g, "u-ann", "1").expect("ann"));
    let answer = cancel(&mut g, "u-ann", "1").expect("cancel while pending");
    assert_eq!(answer["was"], json!("pending-payment"));
    g.settle_payment(&ann).expect("paid anyway");
    assert_eq!(g.payments()[0].refunded, 2000);
    assert!(
        dms_to(&g, "u-ann")
            .iter()
            .any(|m| m.contains("refunded in full"))
    );
    assert_eq!(attendees(&mut g, "1")["left"][0]["refunded"], json!(2000));
}

#[test]
fn the_attendees_view_is_for_the_organizer_and_admins() {
    let mut g = group();
    create(&mut g, "/event Dinner | 2d | 1 | 10");
    rsvp(&mut g, "u-ann", "1").expect("ann");
    rsvp(&mut g, "u-bob", "1").expect("bob");
    for plain in ["u-ann", "u-bob", "u-cat"] {
        assert_eq!(
            code(g.action(plain, "attendees", json!({"event": "1"}))),
            "denied"
        );
    }
    for allowed in ["u-org", "u-owner", "u-admin"] {
        let view = g
            .action(allowed, "attendees", json!({"event": "1"}))
            .expect(allowed);
        assert_eq!(view["attendees"][0]["member"], json!("u-ann"));
        assert_eq!(view["attendees"][0]["status"], json!("pending-payment"));
        assert_eq!(view["attendees"][0]["payment"]["status"], json!("pending"));
        assert_eq!(view["waitlist"][0]["member"], json!("u-bob"));
        assert_eq!(view["fee"], json!({"amount": 1000, "currency": "CNY"}));
    }
}

#[test]
fn the_reminder_reaches_attendees_only() {
    let mut g = group();
    create(&mut g, "/event Dinner | 1d | 3 | 10");
    let ann = payment_of(&rsvp(&mut g, "u-ann", "1").expect("ann"));
    g.settle_payment(&ann).expect("ann paid");
    rsvp(&mut g, "u-bob", "1").expect("bob, not paid yet");
    rsvp(&mut g, "u-cat", "1").expect("cat, not paid");
    rsvp(&mut g, "u-admin", "1").expect("admin waits");
    create(&mut g, "/event Walk | 1d | 5");
    rsvp(&mut g, "u-owner", "2").expect("owner walks");
    let dms_before = g.direct_messages().len();

    assert_eq!(g.advance(21 * HOUR).expect("no timer yet"), 0);
    assert_eq!(g.advance(HOUR).expect("reminders"), 2);
    let reminders: Vec<&(String, Message)> = g.direct_messages()[dms_before..].iter().collect();
    let to: Vec<&str> = reminders.iter().map(|(to, _)| to.as_str()).collect();
    assert_eq!(to, ["u-ann", "u-owner"]);
    assert!(
        reminders[0]
            .1
            .text
            .starts_with("Reminder: #1 “Dinner” starts at 2026-01-02 00:00 (UTC)")
    );
    assert!(g.timers().is_empty());
}

#[test]
fn no_reminder_for_an_event_starting_within_two_hours() {
    let mut g = group();
    create(&mut g, "/event Coffee | 90m | 3");
    assert!(g.timers().is_empty());
    create(&mut g, "/event Tea | 2h1m | 3");
    assert_eq!(g.timers().len(), 1);
}

#[test]
fn the_app_degrades_without_scheduler_or_messaging() {
    let mut g = group()
        .without(Capability::Scheduler)
        .without(Capability::Messaging);
    create(&mut g, "/event Picnic | 2d | 1");
    assert!(g.timers().is_empty());
    rsvp(&mut g, "u-ann", "1").expect("ann");
    rsvp(&mut g, "u-bob", "1").expect("bob");
    cancel(&mut g, "u-ann", "1").expect("ann cancels; the message to bob is skipped");
    assert_eq!(
        roster(&mut g, "1"),
        (seats(&[("u-bob", "attending")]), vec![])
    );
    assert!(g.direct_messages().is_empty());
}

#[test]
fn a_paid_rsvp_without_the_payments_grant_is_denied_and_leaves_no_trace() {
    let mut g = group().without(Capability::Payments);
    create(&mut g, "/event Dinner | 2d | 2 | 10");
    assert_eq!(code(rsvp(&mut g, "u-ann", "1")), "denied");
    assert_eq!(roster(&mut g, "1"), (vec![], vec![]));
}

#[test]
fn started_events_take_no_rsvps_and_no_cancellations() {
    let mut g = group();
    create(&mut g, "/event Picnic | 3h | 2");
    rsvp(&mut g, "u-ann", "1").expect("ann");
    g.advance(4 * HOUR).expect("started");
    assert_eq!(code(rsvp(&mut g, "u-bob", "1")), "invalid");
    assert_eq!(code(cancel(&mut g, "u-ann", "1")), "invalid");
    // Asking about an existing RSVP still answers.
    assert_eq!(
        status(&rsvp(&mut g, "u-ann", "1").expect("ann")),
        "attending"
    );
}

#[test]
fn event_ids_count_up() {
    let mut g = group();
    for n in 1..=3 {
        let message = create(&mut g, &format!("/event E{n} | 1d | 1"));
        assert!(
            message.text.starts_with(&format!("Event #{n} ")),
            "{}",
            message.text
        );
    }
}

#[test]
fn a_member_who_leaves_the_group_gives_up_their_seats() {
    let mut g = group();
    create(&mut g, "/event Dinner | 3d | 1 | 40");
    create(&mut g, "/event Walk | 3d | 1");
    let ann = payment_of(&rsvp(&mut g, "u-ann", "1").expect("ann"));
    g.settle_payment(&ann).expect("paid");
    rsvp(&mut g, "u-bob", "1").expect("bob waits");
    rsvp(&mut g, "u-cat", "1").expect("cat waits");
    rsvp(&mut g, "u-ann", "2").expect("ann walks");
    rsvp(&mut g, "u-cat", "2").expect("cat waits for the walk");

    g.leave("u-ann").expect("ann leaves");
    let paid = g
        .payments()
        .into_iter()
        .find(|p| p.id == ann)
        .expect("ann's");
    assert_eq!(paid.refunded, 4000, "refunded before the cutoff");
    assert_eq!(
        roster(&mut g, "1"),
        (
            seats(&[("u-bob", "pending-payment")]),
            vec!["u-cat".to_owned()]
        )
    );
    assert_eq!(
        roster(&mut g, "2"),
        (seats(&[("u-cat", "attending")]), vec![])
    );
    assert_eq!(
        attendees(&mut g, "1")["left"][0]["reason"],
        json!("left the group")
    );
    g.leave("u-cat").expect("cat leaves");
    assert_eq!(
        roster(&mut g, "1"),
        (seats(&[("u-bob", "pending-payment")]), vec![])
    );
    assert_eq!(roster(&mut g, "2"), (vec![], vec![]));
}

#[test]
fn a_big_event_keeps_every_stored_value_and_answer_small() {
    let mut g = group();
    for i in 0..340 {
        g.add_member(
            &format!("member-{i:04}-with-a-long-identifier"),
            &format!("Member number {i}"),
            Role::Member,
        );
    }
    create(&mut g, "/event Festival | 5d | 300 | 99.99");
    for i in 0..340 {
        let answer = rsvp(
            &mut g,
            &format!("member-{i:04}-with-a-long-identifier"),
            "1",
        )
        .expect("rsvp");
        let expected = if i < 300 {
            "pending-payment"
        } else {
            "waitlisted"
        };
        assert_eq!(status(&answer), expected, "{i}");
    }
    let largest = g.storage().values().map(Vec::len).max().unwrap_or(0);
    assert!(largest < 1024, "largest stored value: {largest} bytes");
    let view = attendees(&mut g, "1");
    assert_eq!(view["seats_taken"], json!(300));
    assert_eq!(view["seats_left"], json!(0));
    assert_eq!(view["waiting"], json!(40));
    assert_eq!(view["truncated"], json!(true));
    assert!(view.to_string().len() <= 64 * 1024);
    assert_eq!(
        view["attendees"][0]["member"],
        json!("member-0000-with-a-long-identifier")
    );
}

#[test]
fn a_big_event_is_reminded_in_batches() {
    let mut g = group();
    let members: Vec<String> = (0..100).map(|i| format!("m{i:03}")).collect();
    for m in &members {
        g.add_member(m, m, Role::Member);
    }
    create(&mut g, "/event Concert | 1d | 100");
    for m in &members {
        rsvp(&mut g, m, "1").expect("rsvp");
    }
    g.advance(22 * HOUR).expect("first batch");
    assert_eq!(g.direct_messages().len(), crate::seats::REMIND_BATCH);
    g.advance(HOUR).expect("the rest");
    let mut reminded: Vec<&str> = g
        .direct_messages()
        .iter()
        .map(|(to, _)| to.as_str())
        .collect();
    reminded.sort_unstable();
    assert_eq!(reminded, members, "everyone exactly once");
    assert!(g.timers().is_empty());
}

#[test]
fn a_new_rsvp_after_a_failed_payment_gets_a_new_request() {
    let mut g = group();
    create(&mut g, "/event Dinner | 2d | 1 | 15");
    let first = payment_of(&rsvp(&mut g, "u-ann", "1").expect("ann"));
    rsvp(&mut g, "u-bob", "1").expect("bob waits");
    g.fail_payment(&first, "declined").expect("declined");
    // Ann joins the waitlist, leaves it, and comes back when Bob cancels.
    rsvp(&mut g, "u-ann", "1").expect("ann waits");
    cancel(&mut g, "u-ann", "1").expect("ann leaves the waitlist");
    cancel(&mut g, "u-bob", "1").expect("bob cancels");
    let again = rsvp(&mut g, "u-ann", "1").expect("ann again");
    assert_eq!(status(&again), "pending-payment");
    let second = payment_of(&again);
    assert_ne!(second, first);
    g.settle_payment(&second).expect("paid");
    assert_eq!(
        roster(&mut g, "1"),
        (seats(&[("u-ann", "confirmed")]), vec![])
    );
}
