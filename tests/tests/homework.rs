//! The homework app end to end over real HTTP against the real `qun` binary:
//! the teacher (owner or group admin) sets homework, members hand in (one
//! late), resubmit until graded, the grade reaches the student by direct
//! message, reminders 24 h and 1 h before the due time go by direct message
//! only to members who have not handed in, and the statistics add up.

mod events_common;
mod server_common;

use std::time::Duration;

use events_common::{ADMIN, Api, eventually};
use qun_tests::{Backend, TestDb, backend_tests};
use reqwest::StatusCode;
use serde_json::{Value, json};
use server_common::Server;

backend_tests!(homework_runs_end_to_end_over_http);

const GRANTS: &[&str] = &["membership", "messaging", "storage", "scheduler"];

/// Post `/homework ...` as `token`; the assignment id from the card the app
/// posted ("Homework #<id>: Title (due ...)", the newest one).
async fn set_homework(api: &Api, gid: &str, token: &str, text: &str) -> String {
    let (status, body) = api.say(gid, token, text).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    api.texts(gid, token)
        .await
        .iter()
        .rev()
        .find_map(|t| {
            t.strip_prefix("Homework #")
                .and_then(|rest| rest.split(':').next())
                .map(str::to_string)
        })
        .unwrap_or_else(|| panic!("no assignment card after {body}"))
}

async fn submit(api: &Api, gid: &str, token: &str, id: &str, answer: &str) -> Value {
    api.action(
        gid,
        "homework",
        token,
        "submit",
        json!({"assignment": id, "answer": answer}),
    )
    .await
}

fn reminders_of(directs: &[String], id: &str) -> usize {
    let prefix = format!("Reminder: homework #{id} ");
    directs.iter().filter(|d| d.starts_with(&prefix)).count()
}

async fn homework_runs_end_to_end_over_http(backend: Backend) {
    let Some(db) = TestDb::new(backend).await else {
        return;
    };
    let homework = qun_components::plugin("homework").expect("the homework plugin is built");
    let server = Server::start_with(&db.url, ADMIN, &["--event-poll-ms", "50"]);
    let api = Api::new(&server.base);
    let (_, dev) = api.user("dev", true).await;
    let (_, teacher) = api.user("teacher", false).await;
    let (helper, helper_token) = api.user("helper", false).await;
    let mut students = Vec::new();
    for name in ["sam", "sue", "sid"] {
        students.push(api.user(name, false).await);
    }
    let gid = api.group(&teacher, "class").await;
    let (status, body) = api
        .post(
            &format!("/v1/groups/{gid}/members"),
            &teacher,
            json!({"user_id": helper, "role": "admin"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for (id, _) in &students {
        api.add_member(&gid, &teacher, id).await;
    }
    api.publish(&dev, "homework", homework).await;
    let inst = api.install(&gid, &teacher, "homework", GRANTS).await;
    let (sam, sue, sid) = (&students[0].1, &students[1].1, &students[2].1);

    // A student cannot set homework.
    let (status, body) = api.say(&gid, sam, "/homework Nope | 2d | no").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    // Due times to the second are typed as RFC 3339 (people type minutes).
    let due_in = |secs: i64| events_common::rfc3339_in(secs * 1000);
    // Due in 1 h 6 s: its 1-hour reminder comes due in 6 s. Set by the owner.
    let essay = set_homework(
        &api,
        &gid,
        &teacher,
        &format!("/homework Essay | {} | 200 words on rivers", due_in(3606)),
    )
    .await;
    // Due in 24 h 8 s: its 24-hour reminder comes due in 8 s. Set by a group admin.
    let poem = set_homework(
        &api,
        &gid,
        &helper_token,
        &format!("/homework Poem | {} | A haiku", due_in(86_408)),
    )
    .await;
    // Due in 3 s, for a late hand-in.
    let quiz = set_homework(
        &api,
        &gid,
        &teacher,
        &format!("/homework Quiz | {} | Name three rivers", due_in(3)),
    )
    .await;
    let quiz_set = std::time::Instant::now();

    // Before the reminders: sam hands in everything, sue the poem only.
    for id in [&essay, &poem] {
        let answer = submit(&api, &gid, sam, id, "first draft").await;
        assert_eq!(answer["late"], json!(false), "{answer}");
    }
    let on_time = submit(&api, &gid, sam, &quiz, "Nile, Amazon, Yangtze").await;
    assert_eq!(on_time["late"], json!(false), "{on_time}");
    submit(&api, &gid, sue, &poem, "old pond / a frog jumps in").await;

    // A hand-in after the due time is accepted and marked late.
    let left = Duration::from_millis(3_500).saturating_sub(quiz_set.elapsed());
    tokio::time::sleep(left).await;
    let late = submit(&api, &gid, sid, &quiz, "Thames").await;
    assert_eq!(late["late"], json!(true), "{late}");

    // Reminders: essay (1 h) to sue and sid; poem (24 h) to sid only.
    let sid_directs = eventually(60, "both reminders to reach sid", || {
        let api = api.clone();
        let sid = sid.clone();
        let (essay, poem) = (essay.clone(), poem.clone());
        async move {
            let directs = api.directs(&sid).await;
            (reminders_of(&directs, &essay) == 1 && reminders_of(&directs, &poem) == 1)
                .then_some(directs)
        }
    })
    .await;
    assert!(
        sid_directs
            .iter()
            .any(|d| d.contains("“Essay” is due in 1 hour")),
        "{sid_directs:?}"
    );
    assert!(
        sid_directs
            .iter()
            .any(|d| d.contains("“Poem” is due in 24 hours")),
        "{sid_directs:?}"
    );
    let sue_directs = eventually(60, "the essay reminder to reach sue", || {
        let api = api.clone();
        let sue = sue.clone();
        let essay = essay.clone();
        async move {
            let directs = api.directs(&sue).await;
            (reminders_of(&directs, &essay) == 1).then_some(directs)
        }
    })
    .await;
    assert_eq!(
        reminders_of(&sue_directs, &poem),
        0,
        "sue handed the poem in: {sue_directs:?}"
    );
    // Both reminder timers have fired (the delivery loop drained them).
    eventually(60, "the due reminder timers to be gone", || {
        let store = db.store.clone();
        let inst = inst.clone();
        async move {
            let timers = store.timers(&inst).await.ok()?;
            // Left: the poem's 1 h reminder, due in about a day (the essay's
            // 24 h reminder was already past when it was set: never scheduled).
            (timers.len() == 1 && timers[0].key.ends_with("/1h")).then_some(())
        }
    })
    .await;
    assert!(
        api.directs(sam).await.is_empty(),
        "sam handed everything in"
    );
    assert!(
        api.directs(&teacher).await.is_empty(),
        "teachers are not reminded"
    );
    assert!(
        api.directs(&helper_token).await.is_empty(),
        "teachers are not reminded"
    );

    // The teacher sees who has not handed in the essay, through membership.
    let list = api
        .action(
            &gid,
            "homework",
            &teacher,
            "submissions",
            json!({"assignment": essay}),
        )
        .await;
    let missing: Vec<&str> = list["not_handed_in"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["member"].as_str())
        .collect();
    let mut expected_missing = vec![students[1].0.as_str(), students[2].0.as_str()];
    expected_missing.sort();
    let mut missing_sorted = missing.clone();
    missing_sorted.sort();
    assert_eq!(missing_sorted, expected_missing, "{list}");
    assert_eq!(
        list["submissions"].as_array().map(Vec::len),
        Some(1),
        "{list}"
    );

    // Resubmitting before grading replaces the answer.
    let again = submit(&api, &gid, sam, &essay, "final draft").await;
    assert_eq!(again["resubmitted"], json!(true), "{again}");
    // A student may not grade.
    let (status, body) = api
        .try_action(
            &gid,
            "homework",
            sue,
            "grade",
            json!({"assignment": essay, "member": students[0].0, "score": 100}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    // The grade reaches the student by direct message.
    let graded = api
        .action(
            &gid,
            "homework",
            &teacher,
            "grade",
            json!({"assignment": essay, "member": students[0].0, "score": 90, "feedback": "Well argued"}),
        )
        .await;
    assert_eq!(graded["notified"], json!(true), "{graded}");
    let sam_directs = api.directs(sam).await;
    assert_eq!(
        sam_directs,
        [format!(
            "Your homework #{essay} “Essay” is graded: 90/100. Feedback: Well argued"
        )],
        "{sam_directs:?}"
    );
    // Graded: no more changes.
    let (status, body) = api
        .try_action(
            &gid,
            "homework",
            sam,
            "submit",
            json!({"assignment": essay, "answer": "too late to change"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let mine = api
        .action(
            &gid,
            "homework",
            sam,
            "submission",
            json!({"assignment": essay}),
        )
        .await;
    assert_eq!(mine["answer"], json!("final draft"), "{mine}");

    // Statistics of the quiz: 2 of 3 handed in, 1 late, average of the grades.
    for (member, score) in [(&students[0].0, 80), (&students[2].0, 60)] {
        api.action(
            &gid,
            "homework",
            &helper_token,
            "grade",
            json!({"assignment": quiz, "member": member, "score": score}),
        )
        .await;
    }
    let stats = api
        .action(
            &gid,
            "homework",
            &teacher,
            "stats",
            json!({"assignment": quiz}),
        )
        .await;
    assert_eq!(
        (
            &stats["members"],
            &stats["handed_in"],
            &stats["late"],
            &stats["graded"],
            &stats["average_score"]
        ),
        (&json!(3), &json!(2), &json!(1), &json!(2), &json!(70.0)),
        "{stats}"
    );
    let (status, body) = api
        .try_action(&gid, "homework", sid, "stats", json!({"assignment": quiz}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}
