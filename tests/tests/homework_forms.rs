//! The first-party homework app, built from source, through its forms on the
//! real runtime (issue 13): the teacher sets homework from the homework
//! form, a student presses **Hand in** and submits the hand-in form, the
//! teacher grades from the grading form. Values are checked by the host's
//! own code (`qun_blocks::check_submission`, as the HTTP layer does) before
//! the app sees them; the app's own field errors come back as such.

mod events_common;

use qun_blocks::{Block, Form, Response, Zone, check_submission};
use qun_host::runtime::{Answer, Call, Invocation, Outcome};
use qun_tests::{Backend, World, app_error, backend_tests};
use serde_json::{Value, json};

backend_tests!(homework_is_set_handed_in_and_graded_through_forms);

const GRANTS: &[&str] = &["membership", "messaging", "storage", "scheduler"];

async fn run(w: &World, inst: &str, actor: &str, call: Call) -> Outcome {
    w.runtime
        .invoke(Invocation {
            installation_id: inst.to_string(),
            actor: Some(actor.to_string()),
            call,
            invocation_id: None,
        })
        .await
        .unwrap_or_else(|e| panic!("invocation failed: {e:?}"))
}

/// A button press on message `message` (no chosen value).
fn press(action: &str, payload: Value, message: i64) -> Call {
    Call::Action {
        name: action.to_string(),
        payload: payload.to_string(),
        value: None,
        message_id: Some(message),
    }
}

/// Submits `form` with `raw` values the way the HTTP layer does: the host
/// checks them first; `Err` holds the inputs it refused (the app never runs).
async fn submit(
    w: &World,
    inst: &str,
    actor: &str,
    form: &Form,
    raw: Value,
) -> Result<Outcome, Vec<String>> {
    let raw = raw.as_object().cloned().expect("an object");
    let checked = check_submission(form, &raw, &Zone::utc())
        .map_err(|errors| errors.into_iter().map(|e| e.input).collect::<Vec<_>>())?;
    Ok(run(
        w,
        inst,
        actor,
        Call::Submit {
            callback: form.callback.clone(),
            state: form.state.clone(),
            values: checked.values,
            step: 1,
        },
    )
    .await)
}

fn form_of(answer: &Answer) -> Form {
    match answer {
        Answer::Response(Response::Form { form })
        | Answer::Action {
            response: Response::Form { form },
            ..
        } => form.clone(),
        other => panic!("not a form: {other:?}"),
    }
}

fn input_ids(form: &Form) -> Vec<&str> {
    form.blocks
        .iter()
        .filter_map(|b| match b {
            Block::Input { input } => Some(input.id.as_str()),
            _ => None,
        })
        .collect()
}

async fn homework_is_set_handed_in_and_graded_through_forms(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let homework = qun_components::plugin("homework").expect("the homework plugin is built");
    let (gid, teacher, students) = w.group(2).await;
    let inst = w.install(homework, &gid, GRANTS).await;
    let (sam, sue) = (&students[0], &students[1]);
    let homework_cmd = || Call::Command {
        name: "homework".into(),
        args: String::new(),
        options: Vec::new(),
    };

    // A student gets no form: only teachers set homework.
    let err = w
        .runtime
        .invoke(Invocation {
            installation_id: inst.clone(),
            actor: Some(sam.id.clone()),
            call: homework_cmd(),
            invocation_id: None,
        })
        .await
        .expect_err("students do not set homework");
    assert_eq!(app_error(&err).map(|e| e.0), Some("denied"), "{err:?}");

    // The teacher's `/homework` opens the homework form.
    let opened = run(&w, &inst, &teacher.id, homework_cmd()).await;
    let form = form_of(&opened.answer);
    assert_eq!(input_ids(&form), ["title", "due", "instructions"]);
    // The host refuses a due time it cannot read, naming the input.
    let refused = submit(
        &w,
        &inst,
        &teacher.id,
        &form,
        json!({"title": "Essay", "due": "someday"}),
    )
    .await
    .expect_err("refused by the host");
    assert_eq!(refused, ["due"]);
    let set = submit(
        &w,
        &inst,
        &teacher.id,
        &form,
        json!({"title": "Essay", "due": events_common::rfc3339_in(30 * 86_400_000), "instructions": "Two pages"}),
    )
    .await
    .expect("checked");
    assert!(
        matches!(&set.answer, Answer::Response(Response::Post { .. })),
        "{:?}",
        set.answer
    );
    let card = *set.posted.first().expect("the card is posted");
    let messages = w.messages(&gid).await;
    let text = messages
        .iter()
        .find(|m| m.id == card)
        .and_then(|m| m.text.clone())
        .unwrap_or_default();
    assert!(
        text.starts_with("Homework #1: Essay (due ") && text.ends_with(" (UTC))"),
        "{text}"
    );

    // Sam presses Hand in: the hand-in form, with a multi-line answer.
    let pressed = run(
        &w,
        &inst,
        &sam.id,
        press("submit", json!({"assignment": "1"}), card),
    )
    .await;
    let hand_in = form_of(&pressed.answer);
    assert_eq!(input_ids(&hand_in), ["answer", "work"]);
    // Text, files or both: neither is refused beside both inputs.
    let refused = submit(&w, &inst, &sam.id, &hand_in, json!({"answer": ""}))
        .await
        .expect("checked by the host; refused by the app");
    let Answer::Response(Response::FieldErrors { errors }) = &refused.answer else {
        panic!("not field errors: {:?}", refused.answer)
    };
    let inputs: Vec<&str> = errors.iter().map(|e| e.input.as_str()).collect();
    assert_eq!(inputs, ["answer", "work"]);
    let handed = submit(
        &w,
        &inst,
        &sam.id,
        &hand_in,
        json!({"answer": "Rivers flow.\nThe end."}),
    )
    .await
    .expect("checked");
    let Answer::Response(Response::Private { message }) = &handed.answer else {
        panic!("not a private reply: {:?}", handed.answer)
    };
    assert!(
        message.text.contains("You handed in homework #1"),
        "{message:?}"
    );
    // The confirmation is sam's alone.
    let (private_id, to) = handed.private.first().cloned().expect("stored privately");
    assert_eq!(to, sam.id);
    let private = w
        .store()
        .message(&gid, private_id)
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(private.visible_to.as_deref(), Some(sam.id.as_str()));
    for (member, sees) in [(&sam.id, true), (&sue.id, false), (&teacher.id, false)] {
        let seen = w
            .store()
            .messages_visible(&gid, member, 0, 100)
            .await
            .expect("timeline");
        assert_eq!(seen.iter().any(|m| m.id == private_id), sees, "{member}");
    }

    // The teacher presses Grade: the grading form.
    let pressed = run(
        &w,
        &inst,
        &teacher.id,
        press("grade", json!({"assignment": "1"}), card),
    )
    .await;
    let grading = form_of(&pressed.answer);
    assert_eq!(input_ids(&grading), ["student", "score", "feedback"]);
    // The host refuses a score over 100.
    assert_eq!(
        submit(
            &w,
            &inst,
            &teacher.id,
            &grading,
            json!({"student": sam.id, "score": 120}),
        )
        .await
        .expect_err("over 100"),
        ["score"]
    );
    // The app answers beside the student input: sue has not handed in.
    let not_yet = submit(
        &w,
        &inst,
        &teacher.id,
        &grading,
        json!({"student": sue.id, "score": 90}),
    )
    .await
    .expect("checked");
    let Answer::Response(Response::FieldErrors { errors }) = &not_yet.answer else {
        panic!("no field errors: {:?}", not_yet.answer)
    };
    assert_eq!(errors[0].input, "student");
    let graded = submit(
        &w,
        &inst,
        &teacher.id,
        &grading,
        json!({"student": sam.id, "score": "95", "feedback": "Well argued"}),
    )
    .await
    .expect("checked");
    assert!(
        matches!(&graded.answer, Answer::Response(Response::Private { .. })),
        "{:?}",
        graded.answer
    );
    let directs = w.store().direct_messages(&sam.id).await.expect("directs");
    let texts: Vec<&str> = directs.iter().filter_map(|d| d.text.as_deref()).collect();
    assert_eq!(
        texts,
        ["Your homework #1 “Essay” is graded: 95/100. Feedback: Well argued"]
    );
}
