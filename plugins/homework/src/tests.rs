//! The homework app run against the SDK's in-memory host.

use std::time::Duration;

use qun_sdk::prelude::*;
use qun_sdk::testing::{Capability, TestGroup};

use crate::Homework;

const HOUR: Duration = Duration::from_secs(3600);

fn group() -> TestGroup<Homework> {
    TestGroup::new()
        .member("u-teach", "Tina", Role::Owner)
        .member("u-admin", "Adam", Role::Admin)
        .member("u-ann", "Ann", Role::Member)
        .member("u-bob", "Bob", Role::Member)
        .member("u-cat", "Cat", Role::Member)
}

/// The teacher types `line`; the card everyone sees.
fn create(g: &mut TestGroup<Homework>, line: &str) -> Message {
    g.command("u-teach", line).expect("homework set");
    g.last_posted().cloned().expect("the card")
}

fn submit(g: &mut TestGroup<Homework>, actor: &str, id: &str, answer: &str) -> Result<Json> {
    g.action(
        actor,
        "submit",
        json!({ "assignment": id, "answer": answer }),
    )
}

fn grade(
    g: &mut TestGroup<Homework>,
    actor: &str,
    member: &str,
    score: i64,
    feedback: &str,
) -> Result<Json> {
    g.action(
        actor,
        "grade",
        json!({ "assignment": "1", "member": member, "score": score, "feedback": feedback }),
    )
}

fn code(result: Result<impl std::fmt::Debug>) -> &'static str {
    result.expect_err("an error").code()
}

fn dm_recipients(g: &TestGroup<Homework>) -> Vec<&str> {
    g.direct_messages()
        .iter()
        .map(|(to, _)| to.as_str())
        .collect()
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
        ("homework", "Homework", env!("CARGO_PKG_VERSION"))
    );
    let homework = &info.commands[0];
    assert_eq!(homework.name, "homework");
    let options: Vec<&str> = homework.options.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(options, ["title", "due", "instructions"]);
    assert_eq!(
        info.actions
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>(),
        ["submit", "submission", "submissions", "grade", "stats"]
    );
}

#[test]
fn the_teacher_sets_homework_and_gets_a_card_with_reminders() {
    let mut g = group();
    let start = g.now();
    let card = create(
        &mut g,
        "/homework Essay | in 2d | Write 500 words on rivers",
    );
    let due = "2026-01-03 00:00 (UTC)";
    assert_eq!(card.text, format!("Homework #1: Essay (due {due})"));
    assert_eq!(card.title(), Some("Essay"));
    assert!(card.paragraphs().contains(&"Write 500 words on rivers"));
    assert_eq!(
        (card.field("Homework"), card.field("Due")),
        (Some("#1"), Some(due))
    );
    let buttons: Vec<(&str, &str, &str)> = card
        .buttons()
        .iter()
        .map(|b| (b.label.as_str(), b.action.as_str(), b.payload.as_str()))
        .collect();
    assert_eq!(
        buttons,
        [
            ("Hand in", "submit", r#"{"assignment":"1"}"#),
            ("My status", "submission", r#"{"assignment":"1"}"#),
            ("Grade", "grade", r#"{"assignment":"1"}"#),
            ("Hand-ins", "submissions", r#"{"assignment":"1"}"#),
        ]
    );

    let timers = g.timers();
    let timers: Vec<(&str, String, &str)> = timers
        .iter()
        .map(|t| (t.key.as_str(), t.at.to_string(), t.payload.as_str()))
        .collect();
    assert_eq!(
        timers,
        [
            (
                "remind/1/1h",
                (start + 47 * HOUR).to_string(),
                r#"{"assignment":"1","reminder":"1h"}"#
            ),
            (
                "remind/1/24h",
                (start + 24 * HOUR).to_string(),
                r#"{"assignment":"1","reminder":"24h"}"#
            ),
        ]
    );

    // An admin is a teacher too; ids count up; RFC 3339 with an offset works;
    // instructions are optional.
    g.command("u-admin", "/homework Quiz | 2026-01-03T08:00:00+08:00")
        .expect("admin sets homework");
    let second = g.last_posted().cloned().expect("card");
    assert_eq!(second.field("Homework"), Some("#2"));
    assert_eq!(second.field("Due"), Some("2026-01-03 00:00 (UTC)"));
    assert!(second.paragraphs().contains(&"No instructions."));
    assert_eq!(g.timers().len(), 4);
}

#[test]
fn due_times_are_typed_and_shown_in_the_groups_zone() {
    let mut g = group().zone("Asia/Shanghai", "zh-CN");
    let card = create(&mut g, "/homework Essay | 2026-01-05 18:00 | x");
    assert_eq!(card.field("Due"), Some("2026-01-05 18:00 (Asia/Shanghai)"));
    let due: Json = g
        .action("u-teach", "stats", json!({"assignment": "1"}))
        .expect("stats")["due"]
        .clone();
    assert_eq!(due, json!("2026-01-05T10:00:00Z"));
}

#[test]
fn homework_is_set_through_the_homework_form() {
    let mut g = group();
    // A student gets no form: only teachers set homework.
    assert_eq!(code(g.command("u-ann", "/homework")), "denied");
    assert!(g.open_form("u-ann").is_none());

    let reply = g.command("u-teach", "/homework Essay").expect("a form");
    let form = reply.as_form().expect("the homework form");
    assert_eq!(form.callback(), "homework");
    let title = form.input_named("title").expect("title");
    assert!(
        matches!(&title.kind, qun_sdk::blocks::InputKind::Text(t) if t.initial.as_deref() == Some("Essay"))
    );
    assert!(matches!(
        form.input_named("due").map(|i| &i.kind),
        Some(qun_sdk::blocks::InputKind::DateTime(_))
    ));
    assert!(
        matches!(form.input_named("instructions").map(|i| &i.kind), Some(qun_sdk::blocks::InputKind::Text(t)) if t.multiline)
    );

    // The host checks every value first: the app does not run.
    let errors = g
        .submit("u-teach", json!({"title": "Essay", "due": "someday"}))
        .expect("checked");
    assert_eq!(errors.errors()[0].input, "due");
    let errors = g
        .submit("u-teach", json!({"due": "2026-01-05 18:00"}))
        .expect("checked");
    assert_eq!(errors.errors()[0].input, "title");
    assert!(g.storage().is_empty());
    // The app refuses a due time in the past beside its input.
    let errors = g
        .submit(
            "u-teach",
            json!({"title": "Essay", "due": "2025-12-01 10:00"}),
        )
        .expect("the app answers");
    assert_eq!(errors.errors()[0].input, "due");
    assert!(errors.errors()[0].message.contains("not in the future"));
    g.submit(
        "u-teach",
        json!({"title": "Essay", "due": "2026-01-05 18:00", "instructions": "Two pages\nno more"}),
    )
    .expect("set");
    assert!(g.open_form("u-teach").is_none());
    let card = g.last_posted().cloned().expect("the card is posted");
    assert_eq!(card.title(), Some("Essay"));
    assert_eq!(card.field("Due"), Some("2026-01-05 18:00 (UTC)"));
}

#[test]
fn hand_in_opens_a_form_and_the_confirmation_is_private() {
    let mut g = group();
    create(&mut g, "/homework Essay | in 2d | Write");
    let card = g.last_posted_id().expect("card");
    let reply = g.click("u-ann", &card, "Hand in").expect("a form");
    let form = reply.as_form().expect("the hand-in form");
    let answer = form.input_named("answer").expect("answer");
    // Text, files or both: neither is required alone.
    assert!(!answer.required);
    assert!(matches!(&answer.kind, qun_sdk::blocks::InputKind::Text(t) if t.multiline));
    let errors = g.submit("u-ann", json!({"answer": ""})).expect("checked");
    assert_eq!(errors.errors()[0].input, "answer");
    assert_eq!(errors.errors()[1].input, "work");
    let done = g
        .submit("u-ann", json!({"answer": "Rivers flow.\nThe end."}))
        .expect("handed in");
    assert!(matches!(done, Reply::Private(_)));
    assert_eq!(g.private_replies("u-ann").len(), 1);
    assert!(g.private_replies("u-bob").is_empty());
    assert!(g.timeline("u-teach").iter().all(|p| p.visible_to.is_none()));

    // My status: privately, only for ann.
    let status = g.click("u-ann", &card, "My status").expect("status");
    let Reply::Private(status) = status else {
        panic!("not private: {status:?}")
    };
    assert!(
        status.rendered().contains("Rivers flow."),
        "{}",
        status.rendered()
    );
    assert_eq!(code(g.click("u-bob", &card, "My status")), "not-found");
    // Handing in again starts from the earlier answer.
    let again = g.click("u-ann", &card, "Hand in").expect("a form");
    let answer = again
        .as_form()
        .and_then(|f| f.input_named("answer"))
        .cloned()
        .expect("answer");
    assert!(
        matches!(answer.kind, qun_sdk::blocks::InputKind::Text(t) if t.initial.as_deref() == Some("Rivers flow.\nThe end."))
    );
    // Teachers do not hand in.
    assert_eq!(code(g.click("u-teach", &card, "Hand in")), "denied");
}

#[test]
fn the_teacher_grades_from_the_grading_form() {
    let mut g = group();
    create(&mut g, "/homework Essay | in 2d | Write");
    let card = g.last_posted_id().expect("card");
    submit(&mut g, "u-ann", "1", "my essay").expect("handed in");
    assert_eq!(code(g.click("u-ann", &card, "Grade")), "denied");
    let reply = g.click("u-teach", &card, "Grade").expect("a form");
    let form = reply.as_form().expect("the grading form");
    assert!(matches!(
        form.input_named("student").map(|i| &i.kind),
        Some(qun_sdk::blocks::InputKind::Member(_))
    ));
    assert!(
        matches!(form.input_named("score").map(|i| &i.kind), Some(qun_sdk::blocks::InputKind::Number(n)) if n.integer)
    );

    let errors = g
        .submit("u-teach", json!({"student": "u-ann", "score": 120}))
        .expect("checked");
    assert_eq!(errors.errors()[0].input, "score");
    let errors = g
        .submit("u-teach", json!({"student": "u-stranger", "score": 90}))
        .expect("checked");
    assert_eq!(errors.errors()[0].input, "student");
    let errors = g
        .submit("u-teach", json!({"student": "u-bob", "score": 90}))
        .expect("the app answers");
    assert_eq!(errors.errors()[0].input, "student");
    assert!(errors.errors()[0].message.contains("has not handed in"));
    assert!(g.direct_messages().is_empty());

    let done = g
        .submit(
            "u-teach",
            json!({"student": "u-ann", "score": "90", "feedback": "Well argued"}),
        )
        .expect("graded");
    assert!(
        done.message_ref()
            .is_some_and(|m| m.text.contains("Ann's homework #1 is graded: 90/100"))
    );
    assert_eq!(g.private_replies("u-teach").len(), 1);
    let dms = g.direct_messages_to("u-ann");
    assert_eq!(dms.len(), 1);
    assert_eq!(
        dms[0].text,
        "Your homework #1 “Essay” is graded: 90/100. Feedback: Well argued"
    );
    assert_eq!(code(submit(&mut g, "u-ann", "1", "too late")), "invalid");
}

#[test]
fn reminders_already_in_the_past_are_not_scheduled() {
    let mut g = group();
    create(&mut g, "/homework Quiz | 3h | Chapter 2");
    let keys: Vec<String> = g.timers().into_iter().map(|t| t.key).collect();
    assert_eq!(keys, ["remind/1/1h"]);
    create(&mut g, "/homework Pop quiz | 30m");
    assert_eq!(g.timers().len(), 1);
}

#[test]
fn bad_homework_is_invalid_with_a_hint() {
    let mut g = group();
    for (line, named) in [
        ("/homework Title | someday", "due"),
        ("/homework Title | 2026-13-01T00:00:00Z | x", "due"),
        (
            "/homework Title | 2025-12-31T23:00:00Z | in the past",
            "due",
        ),
        (
            "/homework Title | 2028-01-01T00:00:00Z | too far ahead",
            "due",
        ),
        ("/homework Title | 999999999999d", "due"),
        ("/homework Title | 2d | x | y", "homework"),
    ] {
        let err = g.command("u-teach", line).expect_err(line);
        assert_eq!(err.code(), "invalid", "{line}: {err}");
        assert!(err.message().contains(named), "{line}: {err}");
    }
    // What is missing is asked for in the homework form.
    for line in [
        "/homework",
        "/homework Only a title",
        "/homework Title || 2d",
    ] {
        let reply = g.command("u-teach", line).expect(line);
        assert!(reply.as_form().is_some(), "{line}: {reply:?}");
    }
    let long_title = format!("/homework {} | 2d", "t".repeat(201));
    assert_eq!(code(g.command("u-teach", &long_title)), "invalid");
    let long_text = format!("/homework T | 2d | {}", "x".repeat(2001));
    assert_eq!(code(g.command("u-teach", &long_text)), "invalid");
    assert!(g.storage().is_empty());
    assert!(g.timers().is_empty());
}

#[test]
fn members_hand_in_and_may_resubmit_until_graded() {
    let mut g = group();
    create(&mut g, "/homework Essay | 2d");
    let card = g.last_posted_id().expect("card");
    // The card's button opens the hand-in form.
    let reply = g.click("u-ann", &card, "Hand in").expect("a form");
    assert!(reply.as_form().is_some());
    g.close_form("u-ann");

    let first = submit(&mut g, "u-ann", "1", "  Rivers flow.  ").expect("hands in");
    assert_eq!(first["ok"], json!(true));
    assert_eq!(first["late"], json!(false));
    assert_eq!(first["resubmitted"], json!(false));
    let again = g
        .action(
            "u-ann",
            "submit",
            json!({"assignment": 1, "answer": "Rivers flow to the sea."}),
        )
        .expect("resubmits with a numeric id");
    assert_eq!(again["resubmitted"], json!(true));

    let mine = g
        .action("u-ann", "submission", json!({"assignment": "1"}))
        .expect("sees it");
    assert_eq!(mine["answer"], json!("Rivers flow to the sea."));
    assert_eq!(mine["versions"], json!(2));
    assert_eq!(mine["grade"], Json::Null);
    assert_eq!(
        code(g.click("u-bob", &card, "My status")),
        "not-found",
        "bob has not handed in"
    );

    grade(&mut g, "u-teach", "u-ann", 75, "Short but right").expect("graded");
    let err = submit(&mut g, "u-ann", "1", "better now").expect_err("graded");
    assert_eq!(err.code(), "invalid");
    assert!(err.message().contains("graded"), "{err}");
    let mine = g
        .action("u-ann", "submission", json!({"assignment": "1"}))
        .expect("sees it");
    assert_eq!(mine["answer"], json!("Rivers flow to the sea."));
    assert_eq!(
        mine["grade"],
        json!({"score": 75, "feedback": "Short but right"})
    );
}

#[test]
fn a_hand_in_after_the_due_time_is_accepted_and_marked_late() {
    let mut g = group();
    create(&mut g, "/homework Essay | 2h");
    submit(&mut g, "u-bob", "1", "on time").expect("hands in");
    g.advance(2 * HOUR).expect("reaches the due time");
    assert_eq!(
        submit(&mut g, "u-cat", "1", "just in time").expect("at the due time")["late"],
        json!(false)
    );
    g.advance(Duration::from_secs(1)).expect("clock moves");
    let late = submit(&mut g, "u-ann", "1", "sorry").expect("accepted");
    assert_eq!(late["late"], json!(true));
    // Resubmitting after the due time makes an on-time hand-in late.
    assert_eq!(
        submit(&mut g, "u-bob", "1", "on time, edited").expect("resubmits")["late"],
        json!(true)
    );
    let list = g
        .action("u-teach", "submissions", json!({"assignment": "1"}))
        .expect("lists");
    let lateness: Vec<(String, bool)> = list["submissions"]
        .as_array()
        .expect("array")
        .iter()
        .map(|s| {
            (
                s["member"].as_str().unwrap_or_default().to_owned(),
                s["late"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        lateness,
        [
            ("u-ann".to_owned(), true),
            ("u-bob".to_owned(), true),
            ("u-cat".to_owned(), false)
        ]
    );
}

#[test]
fn grading_sends_the_feedback_to_the_student() {
    let mut g = group();
    create(&mut g, "/homework Essay | 2h");
    submit(&mut g, "u-ann", "1", "my essay").expect("hands in");
    let graded = grade(&mut g, "u-teach", "u-ann", 87, "Good structure").expect("graded");
    assert_eq!(
        graded,
        json!({"ok": true, "assignment": "1", "member": "u-ann", "score": 87,
               "feedback": "Good structure", "regraded": false, "notified": true})
    );
    let dms = g.direct_messages();
    assert_eq!(dms.len(), 1);
    let (to, message) = &dms[0];
    assert_eq!(to, "u-ann");
    assert_eq!(
        message.text,
        "Your homework #1 “Essay” is graded: 87/100. Feedback: Good structure"
    );
    assert_eq!(message.title(), Some("Graded: Essay"));
    assert!(message.paragraphs().contains(&"Good structure"));
    assert!(
        g.posted().len() == 1,
        "grades are never posted to the group"
    );

    // The admin may grade again; the student hears again.
    let regraded = grade(&mut g, "u-admin", "u-ann", 90, "").expect("regraded");
    assert_eq!(regraded["regraded"], json!(true));
    assert_eq!(dms_to(&g, "u-ann"), 2);
    assert_eq!(
        g.direct_messages()[1].1.text,
        "Your homework #1 “Essay” is regraded: 90/100."
    );

    // A student who left keeps the grade but gets no message.
    submit(&mut g, "u-bob", "1", "bob's").expect("hands in");
    g.leave("u-bob").expect("leaves");
    let graded = grade(&mut g, "u-teach", "u-bob", 50, "ok").expect("graded");
    assert_eq!(graded["notified"], json!(false));
    assert_eq!(dms_to(&g, "u-bob"), 0);
}

fn dms_to(g: &TestGroup<Homework>, member: &str) -> usize {
    dm_recipients(g).iter().filter(|to| **to == member).count()
}

#[test]
fn bad_grades_and_payloads_are_refused() {
    let mut g = group();
    create(&mut g, "/homework Essay | 2h");
    submit(&mut g, "u-ann", "1", "my essay").expect("hands in");
    for score in [json!(101), json!(-1), json!(87.5), json!("90"), Json::Null] {
        let err = g
            .action(
                "u-teach",
                "grade",
                json!({"assignment": "1", "member": "u-ann", "score": score}),
            )
            .expect_err("bad score");
        assert_eq!(err.code(), "invalid", "{score}: {err}");
        assert!(err.message().contains("score"), "{err}");
    }
    let long = "f".repeat(1001);
    assert_eq!(
        code(grade(&mut g, "u-teach", "u-ann", 90, &long)),
        "invalid"
    );
    assert_eq!(code(grade(&mut g, "u-teach", "u-bob", 90, "")), "not-found");
    assert_eq!(
        code(grade(&mut g, "u-teach", "u-nobody", 90, "")),
        "not-found"
    );
    assert_eq!(
        code(g.action(
            "u-teach",
            "grade",
            json!({"assignment": "9", "member": "u-ann", "score": 1})
        )),
        "not-found"
    );

    for payload in [
        json!("1"),
        json!(null),
        json!({}),
        json!({"assignment": "01", "answer": "x"}),
        json!({"assignment": 0, "answer": "x"}),
        json!({"assignment": "one", "answer": "x"}),
        json!({"assignment": [1], "answer": "x"}),
        json!({"assignment": "1", "answer": "   "}),
        json!({"assignment": "1", "answer": 42}),
        json!({"assignment": "1", "answer": "x".repeat(5001)}),
    ] {
        let err = g
            .action("u-bob", "submit", payload.clone())
            .expect_err("bad");
        assert_eq!(err.code(), "invalid", "{payload}: {err}");
    }
    assert_eq!(code(submit(&mut g, "u-bob", "2", "x")), "not-found");
    // Without an answer, `submit` opens the hand-in form (the card's button).
    let opened = g
        .action("u-bob", "submit", json!({"assignment": "1"}))
        .expect("a form");
    assert_eq!(opened["form"], json!("hand-in"));
    assert!(g.open_form("u-bob").is_some());
    assert!(g.direct_messages().is_empty());
    assert_eq!(g.stored_json::<Json>("submission/1/u-bob"), None);
}

#[test]
fn non_teachers_are_denied_teacher_actions() {
    let mut g = group();
    create(&mut g, "/homework Essay | 2h");
    submit(&mut g, "u-ann", "1", "mine").expect("hands in");
    assert_eq!(code(g.command("u-bob", "/homework Mine | 2h")), "denied");
    assert_eq!(code(g.command("u-bob", "/homework")), "denied");
    for (action, payload) in [
        ("submissions", json!({"assignment": "1"})),
        ("stats", json!({"assignment": "1"})),
        (
            "grade",
            json!({"assignment": "1", "member": "u-ann", "score": 100}),
        ),
        (
            "grade",
            json!({"assignment": "1", "member": "u-bob", "score": 100}),
        ),
        ("submission", json!({"assignment": "1", "member": "u-ann"})),
    ] {
        assert_eq!(
            code(g.action("u-bob", action, payload.clone())),
            "denied",
            "{action} {payload}"
        );
    }
    // Teachers set and grade; they do not hand in.
    assert_eq!(code(submit(&mut g, "u-teach", "1", "x")), "denied");
    // A teacher sees anyone's hand-in.
    let ann = g
        .action(
            "u-admin",
            "submission",
            json!({"assignment": "1", "member": "u-ann"}),
        )
        .expect("teacher sees it");
    assert_eq!(ann["answer"], json!("mine"));
    assert!(g.direct_messages().is_empty());
    assert_eq!(g.posted().len(), 1);
}

#[test]
fn the_teacher_lists_hand_ins_and_who_has_not_handed_in() {
    let mut g = group().member("u-dan", "Dan", Role::Member);
    create(&mut g, "/homework Essay | 2h");
    submit(&mut g, "u-bob", "1", "bob's answer").expect("hands in");
    submit(&mut g, "u-ann", "1", "ann's answer").expect("hands in");
    grade(&mut g, "u-teach", "u-bob", 60, "More detail").expect("graded");
    let list = g
        .action("u-admin", "submissions", json!({"assignment": "1"}))
        .expect("lists");
    assert_eq!(
        list,
        json!({
            "assignment": "1",
            "title": "Essay",
            "due": "2026-01-01T02:00:00Z",
            "truncated": false,
            "submissions": [
                {"member": "u-ann", "name": "Ann", "answer": "ann's answer", "answer_truncated": false,
                 "submitted_at": "2026-01-01T00:00:00Z", "late": false, "versions": 1, "grade": null,
                 "files": []},
                {"member": "u-bob", "name": "Bob", "answer": "bob's answer", "answer_truncated": false,
                 "submitted_at": "2026-01-01T00:00:00Z", "late": false, "versions": 1,
                 "grade": {"score": 60, "feedback": "More detail"}, "files": []},
            ],
            "not_handed_in": [
                {"member": "u-cat", "name": "Cat"},
                {"member": "u-dan", "name": "Dan"},
            ],
        })
    );
    assert_eq!(
        code(g.action("u-teach", "submissions", json!({"assignment": "2"}))),
        "not-found"
    );
}

#[test]
fn many_long_answers_are_shortened_in_the_list() {
    let mut g = group();
    for i in 0..12 {
        g.add_member(&format!("u-s{i:02}"), &format!("S{i}"), Role::Member);
    }
    create(&mut g, "/homework Essay | 2h");
    for i in 0..12 {
        submit(&mut g, &format!("u-s{i:02}"), "1", &"é".repeat(5000)).expect("hands in");
    }
    let list = g
        .action("u-teach", "submissions", json!({"assignment": "1"}))
        .expect("lists");
    assert_eq!(list["truncated"], json!(true));
    let first = &list["submissions"][0];
    assert_eq!(first["answer_truncated"], json!(true));
    assert_eq!(
        first["answer"].as_str().map(|a| a.chars().count()),
        Some(301)
    );
    assert!(list.to_string().len() <= 60_000);
    let full = g
        .action(
            "u-teach",
            "submission",
            json!({"assignment": "1", "member": "u-s00"}),
        )
        .expect("one in full");
    assert_eq!(
        full["answer"].as_str().map(|a| a.chars().count()),
        Some(5000)
    );

    // So many that even previews do not fit: the answers are left out.
    for i in 0..100 {
        let id = format!("u-t{i:03}");
        g.add_member(&id, &format!("T{i}"), Role::Member);
        submit(&mut g, &id, "1", &"ü".repeat(400)).expect("hands in");
    }
    let list = g
        .action("u-teach", "submissions", json!({"assignment": "1"}))
        .expect("lists");
    assert!(
        list.to_string().len() <= 60_000,
        "{}",
        list.to_string().len()
    );
    assert_eq!(list["submissions"].as_array().map(Vec::len), Some(112));
    assert_eq!(list["submissions"][0]["answer"], Json::Null);
    assert_eq!(list["submissions"][0]["answer_truncated"], json!(true));
}

#[test]
fn stats_count_students_late_hand_ins_and_the_average() {
    let mut g = group().member("u-dan", "Dan", Role::Member);
    create(&mut g, "/homework Essay | 2h");
    let empty = g
        .action("u-teach", "stats", json!({"assignment": "1"}))
        .expect("stats");
    assert_eq!(empty["average_score"], Json::Null);
    assert_eq!(empty["members"], json!(4));
    assert_eq!(empty["handed_in"], json!(0));

    submit(&mut g, "u-ann", "1", "a").expect("hands in");
    submit(&mut g, "u-dan", "1", "d").expect("hands in");
    g.advance(3 * HOUR).expect("past due");
    submit(&mut g, "u-bob", "1", "b").expect("late");
    grade(&mut g, "u-teach", "u-ann", 80, "").expect("graded");
    grade(&mut g, "u-teach", "u-bob", 91, "").expect("graded");
    let stats = g
        .action("u-admin", "stats", json!({"assignment": 1}))
        .expect("stats");
    assert_eq!(
        stats,
        json!({
            "assignment": "1", "title": "Essay", "due": "2026-01-01T02:00:00Z",
            "members": 4, "handed_in": 3, "not_handed_in": 1, "late": 1,
            "graded": 2, "average_score": 85.5,
        })
    );
}

#[test]
fn reminders_go_only_to_members_who_have_not_handed_in() {
    let mut g = group();
    let start = g.now();
    create(&mut g, "/homework Essay | 2d");
    submit(&mut g, "u-ann", "1", "early bird").expect("hands in");

    // Nothing until 24 hours before the due time.
    assert_eq!(
        g.advance(24 * HOUR - Duration::from_secs(1))
            .expect("nothing due"),
        0
    );
    assert!(g.direct_messages().is_empty());
    assert_eq!(g.advance(Duration::from_secs(1)).expect("fires"), 1);
    assert_eq!(g.now(), start + 24 * HOUR);
    assert_eq!(dm_recipients(&g), ["u-bob", "u-cat"]);
    let (_, reminder) = &g.direct_messages()[0];
    assert_eq!(
        reminder.text,
        "Reminder: homework #1 “Essay” is due in 24 hours (2026-01-03 00:00 (UTC)) \
         and you have not handed it in yet."
    );
    assert_eq!(reminder.buttons()[0].action, "submit");

    submit(&mut g, "u-bob", "1", "done").expect("hands in");
    assert_eq!(g.advance(23 * HOUR).expect("the 1 h reminder"), 1);
    assert_eq!(dm_recipients(&g), ["u-bob", "u-cat", "u-cat"]);
    assert_eq!(
        g.direct_messages()[2].1.text,
        "Reminder: homework #1 “Essay” is due in 1 hour (2026-01-03 00:00 (UTC)) \
         and you have not handed it in yet."
    );
    assert!(g.timers().is_empty());
    // Nothing more: not at the due time, not after.
    g.advance(48 * HOUR).expect("clock moves");
    assert_eq!(g.direct_messages().len(), 3);
    assert!(
        g.posted().len() == 1,
        "reminders are never posted to the group"
    );
}

#[test]
fn a_reminder_delivered_twice_or_too_late_is_not_sent_again() {
    let mut g = group();
    create(&mut g, "/homework Essay | 2d");
    let timer = g
        .timers()
        .into_iter()
        .find(|t| t.key == "remind/1/24h")
        .expect("timer");
    let fired = Event::TimerFired(qun_sdk::Timer {
        key: timer.key.clone(),
        payload: timer.payload.clone(),
        due: timer.at,
        recurring: false,
    });
    g.advance(24 * HOUR).expect("fires");
    assert_eq!(g.direct_messages().len(), 3);
    g.event(fired.clone()).expect("delivered again");
    assert_eq!(g.direct_messages().len(), 3);

    // A reminder that arrives after the due time (the host was down) is dropped.
    create(&mut g, "/homework Quiz | 2h");
    let late = g
        .timers()
        .into_iter()
        .find(|t| t.key == "remind/2/1h")
        .expect("timer");
    g.set_now(g.now() + 3 * HOUR);
    g.event(Event::TimerFired(qun_sdk::Timer {
        key: late.key,
        payload: late.payload,
        due: late.at,
        recurring: false,
    }))
    .expect("ignored");
    assert_eq!(g.direct_messages().len(), 3);

    // A timer of homework that does not exist is ignored.
    g.event(Event::TimerFired(qun_sdk::Timer {
        key: "remind/9/1h".into(),
        payload: r#"{"assignment":"9","reminder":"1h"}"#.into(),
        due: g.now(),
        recurring: false,
    }))
    .expect("ignored");
}

#[test]
fn reminders_and_lists_follow_every_page_of_members() {
    let mut g = group();
    for i in 0..250 {
        g.add_member(&format!("u-s{i:03}"), &format!("Student {i}"), Role::Member);
    }
    create(&mut g, "/homework Essay | 2h");
    submit(&mut g, "u-s249", "1", "last one, first in").expect("hands in");
    g.advance(HOUR).expect("1 h reminder");
    // 250 + ann, bob, cat, minus the one who handed in.
    assert_eq!(g.direct_messages().len(), 252);
    assert_eq!(dms_to(&g, "u-s249"), 0);
    assert_eq!(dms_to(&g, "u-s248"), 1);
    assert_eq!(dms_to(&g, "u-teach") + dms_to(&g, "u-admin"), 0);
    let list = g
        .action("u-teach", "submissions", json!({"assignment": "1"}))
        .expect("lists");
    assert_eq!(list["not_handed_in"].as_array().map(Vec::len), Some(252));
    let stats = g
        .action("u-teach", "stats", json!({"assignment": "1"}))
        .expect("stats");
    assert_eq!(
        (stats["members"].clone(), stats["handed_in"].clone()),
        (json!(253), json!(1))
    );
}

#[test]
fn nothing_is_kept_when_a_capability_is_withheld() {
    let mut g = group().without(Capability::Scheduler);
    assert_eq!(code(g.command("u-teach", "/homework Essay | 2d")), "denied");
    assert!(g.storage().is_empty());

    let mut g = group().without(Capability::Messaging);
    create(&mut g, "/homework Essay | 2d");
    submit(&mut g, "u-ann", "1", "mine").expect("hands in");
    assert_eq!(code(grade(&mut g, "u-teach", "u-ann", 90, "")), "denied");
    let mine = g
        .action("u-ann", "submission", json!({"assignment": "1"}))
        .expect("still mine");
    assert_eq!(mine["grade"], Json::Null);
}

/// The start of a PNG: enough for the host to call it an image.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR the rest of a photo";

#[test]
fn a_student_hands_in_a_photo_and_the_teacher_sees_it() {
    let mut g = group();
    create(&mut g, "/homework Essay | in 2d | Write");
    let card = g.last_posted_id().expect("card");
    let photo = g.upload("u-ann", "page1.png", PNG).expect("uploaded");
    let pdf = g
        .upload("u-ann", "essay.pdf", b"%PDF-1.7 the essay")
        .expect("uploaded");

    let form = g.click("u-ann", &card, "Hand in").expect("a form");
    let work = form
        .as_form()
        .and_then(|f| f.input_named("work"))
        .expect("the file input");
    match &work.kind {
        qun_sdk::blocks::InputKind::File(f) => {
            assert_eq!(f.max_files, 5);
            assert_eq!(f.accept, ["image/", "application/pdf", "text/plain"]);
        }
        other => panic!("not a file input: {other:?}"),
    }
    // Files only: no text needed.
    let done = g
        .submit("u-ann", json!({"work": [photo, pdf]}))
        .expect("handed in");
    let line = done.message_ref().map(|m| m.text.clone()).expect("a reply");
    assert!(line.contains("with 2 files"), "{line}");
    let stored = g
        .stored_json::<crate::Submission>("submission/1/u-ann")
        .expect("stored");
    assert_eq!(
        stored
            .files
            .iter()
            .map(|f| f.id.as_str())
            .collect::<Vec<_>>(),
        [photo.as_str(), pdf.as_str()]
    );
    assert_eq!(stored.answer, "");
    assert_eq!(
        g.app_files().len(),
        2,
        "the hand-in's files are the app's own"
    );

    // Text and a file.
    let notes = g
        .upload("u-bob", "notes.txt", b"my notes")
        .expect("uploaded");
    g.click("u-bob", &card, "Hand in").expect("a form");
    g.submit("u-bob", json!({"answer": "Rivers flow.", "work": [notes]}))
        .expect("handed in");

    // The teacher's Hand-ins: the photo as an image, the others to download.
    let reply = g.click("u-teach", &card, "Hand-ins").expect("the list");
    let view = reply.message_ref().cloned().expect("a private card");
    assert_eq!(view.images(), [(photo.as_str(), "page1.png")]);
    assert_eq!(view.files(), [photo.as_str(), pdf.as_str(), notes.as_str()]);
    let text = view.rendered();
    assert!(text.contains("*Ann*") && text.contains("*Bob*"), "{text}");
    assert!(text.contains("Rivers flow."), "{text}");
    assert!(text.contains("not yet: Cat"), "{text}");
    assert_eq!(g.private_replies("u-teach").len(), 1);
    // The teacher downloads the very bytes; a student cannot see Ann's work.
    assert_eq!(
        g.download("u-teach", &photo).expect("shown to the teacher"),
        PNG
    );
    assert_eq!(code(g.download("u-bob", &photo)), "not-found");
    // Students do not get the list.
    assert_eq!(code(g.click("u-bob", &card, "Hand-ins")), "denied");

    // The JSON lists the files too, and so does the teacher's view of one hand-in.
    let list = g
        .action("u-teach", "submissions", json!({"assignment": "1"}))
        .expect("lists");
    assert_eq!(
        list["submissions"][0]["files"][0],
        json!({"id": photo, "name": "page1.png", "content_type": "image/png", "size": PNG.len()})
    );
    let ann = g
        .action(
            "u-teach",
            "submission",
            json!({"assignment": "1", "member": "u-ann"}),
        )
        .expect("ann's");
    assert_eq!(ann["files"][1]["content_type"], json!("application/pdf"));
    let mine = g.click("u-ann", &card, "My status").expect("status");
    let status = mine.message_ref().cloned().expect("private");
    assert_eq!(status.images(), [(photo.as_str(), "page1.png")]);
    assert_eq!(status.files().len(), 2);
}

#[test]
fn a_hand_in_of_a_type_not_accepted_or_of_nothing_is_refused() {
    let mut g = group();
    create(&mut g, "/homework Essay | in 2d | Write");
    let card = g.last_posted_id().expect("card");
    let page = g
        .upload("u-ann", "essay.html", b"<!DOCTYPE html><p>my essay")
        .expect("uploaded");
    let archive = g
        .upload("u-ann", "essay.zip", b"PK\x03\x04 zipped")
        .expect("uploaded");
    g.click("u-ann", &card, "Hand in").expect("a form");
    for refused in [&page, &archive] {
        let errors = g
            .submit(
                "u-ann",
                json!({"answer": "see the file", "work": [refused]}),
            )
            .expect("answered");
        assert_eq!(errors.errors().len(), 1, "{errors:?}");
        assert_eq!(errors.errors()[0].input, "work");
    }
    // Someone else's upload is refused too.
    let bobs = g.upload("u-bob", "bob.png", PNG).expect("uploaded");
    let errors = g
        .submit("u-ann", json!({"work": [bobs]}))
        .expect("answered");
    assert_eq!(errors.errors()[0].input, "work");
    // More than 5 files.
    let many: Vec<String> = (0..6)
        .map(|i| {
            g.upload("u-ann", &format!("p{i}.png"), PNG)
                .expect("uploaded")
        })
        .collect();
    let errors = g.submit("u-ann", json!({"work": many})).expect("answered");
    assert_eq!(errors.errors()[0].input, "work");
    // Neither text nor files.
    let errors = g
        .submit("u-ann", json!({"answer": "   ", "work": []}))
        .expect("answered");
    let inputs: Vec<&str> = errors.errors().iter().map(|e| e.input.as_str()).collect();
    assert_eq!(inputs, ["answer", "work"]);
    assert!(g.open_form("u-ann").is_some(), "the form stays open");
    assert!(
        g.stored_json::<crate::Submission>("submission/1/u-ann")
            .is_none()
    );
    assert!(g.app_files().is_empty(), "nothing was given to the app");
}

#[test]
fn handing_in_again_replaces_the_files_and_lets_go_of_the_old_ones() {
    let mut g = group();
    create(&mut g, "/homework Essay | in 2d | Write");
    let card = g.last_posted_id().expect("card");
    let first = g.upload("u-ann", "draft.png", PNG).expect("uploaded");
    g.click("u-ann", &card, "Hand in").expect("a form");
    g.submit("u-ann", json!({"work": [first]}))
        .expect("handed in");
    let form = g.click("u-ann", &card, "Hand in").expect("a form");
    let hint = form
        .as_form()
        .and_then(|f| f.input_named("work"))
        .and_then(|i| i.hint.clone())
        .unwrap_or_default();
    assert!(hint.contains("replaces"), "{hint}");
    g.submit("u-ann", json!({"answer": "text only now"}))
        .expect("handed in again");
    // The app lets go of the replaced file; the student's upload stays theirs.
    assert!(
        g.app_files().is_empty(),
        "the replaced file no longer counts"
    );
    assert!(g.file(&first).is_some());
}

#[test]
fn without_the_files_grant_text_hand_ins_still_work() {
    let mut g = group().without(Capability::Files);
    create(&mut g, "/homework Essay | in 2d | Write");
    let card = g.last_posted_id().expect("card");
    g.click("u-ann", &card, "Hand in").expect("a form");
    g.submit("u-ann", json!({"answer": "just text"}))
        .expect("handed in");
    let photo = g.upload("u-bob", "p.png", PNG).expect("uploaded");
    g.click("u-bob", &card, "Hand in").expect("a form");
    assert_eq!(code(g.submit("u-bob", json!({"work": [photo]}))), "denied");
}
