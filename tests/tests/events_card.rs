//! The first-party events app, built from source, on the real runtime (issue
//! 13): `/event` with typed options (as the HTTP layer hands them over) posts
//! a card that shows the seats left and the waitlist, updated in place as
//! members RSVP and cancel; a member who pressed a button is told privately.

use qun_blocks::{NamedValue, Response, Value as Typed};
use qun_host::runtime::{Answer, Call, Invocation, Outcome};
use qun_tests::{Backend, World, backend_tests};
use serde_json::json;

backend_tests!(the_event_card_shows_seats_left_and_the_waitlist);

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

fn option(name: &str, value: Typed) -> NamedValue {
    NamedValue {
        name: name.to_string(),
        value,
    }
}

async fn card_text(w: &World, gid: &str, id: i64) -> String {
    w.store()
        .message(gid, id)
        .await
        .expect("read")
        .and_then(|m| m.text)
        .unwrap_or_default()
}

async fn the_event_card_shows_seats_left_and_the_waitlist(backend: Backend) {
    let Some(w) = World::new(backend).await else {
        return;
    };
    let events = qun_components::plugin("events").expect("the events plugin is built");
    let (gid, organizer, members) = w.group(3).await;
    let inst = w.install(events, &gid, GRANTS).await;
    let starts = qun_host::store::now_ms() + 3 * 86_400_000;
    let created = run(
        &w,
        &inst,
        &organizer.id,
        Call::Command {
            name: "event".into(),
            args: "Hike | in 3 days | 2".into(),
            options: vec![
                option("title", Typed::Text("Hike".into())),
                option("when", Typed::DateTime(starts)),
                option("capacity", Typed::Integer(2)),
            ],
        },
    )
    .await;
    assert!(
        matches!(created.answer, Answer::Response(Response::None)),
        "the app posts the card itself: {:?}",
        created.answer
    );
    let card = *created.posted.first().expect("the card");
    assert_eq!(
        card_text(&w, &gid, card).await,
        "Event #1 “Hike”: 2 of 2 left, 0 waiting"
    );

    let press = |action: &str| Call::Action {
        name: action.to_string(),
        payload: json!({"event": "1"}).to_string(),
        value: None,
        message_id: Some(card),
    };
    for member in &members {
        let pressed = run(&w, &inst, &member.id, press("rsvp")).await;
        assert_eq!(pressed.changed, [card], "the card is updated in place");
        let Answer::Action {
            response: Response::Private { .. },
            ..
        } = pressed.answer
        else {
            panic!("not told privately: {:?}", pressed.answer)
        };
    }
    assert_eq!(
        card_text(&w, &gid, card).await,
        "Event #1 “Hike”: full (2 seats), 1 waiting"
    );
    // The first member cancels: the one waiting takes the seat.
    run(&w, &inst, &members[0].id, press("cancel")).await;
    assert_eq!(
        card_text(&w, &gid, card).await,
        "Event #1 “Hike”: full (2 seats), 0 waiting"
    );
    run(&w, &inst, &members[1].id, press("cancel")).await;
    assert_eq!(
        card_text(&w, &gid, card).await,
        "Event #1 “Hike”: 1 of 2 left, 0 waiting"
    );
    // One card everyone sees, updated; the replies were private.
    let public: Vec<_> = w
        .messages(&gid)
        .await
        .into_iter()
        .filter(|m| m.visible_to.is_none())
        .collect();
    assert_eq!(public.len(), 1);
}
