//! Tests of the harness itself.

use super::*;
use crate::prelude::*;

struct Notes;

impl App for Notes {
    fn describe() -> Describe {
        Describe::new("notes", "Notes")
            .command("note", "Keep a note")
            .action("fail", "Write, then fail")
    }

    fn on_command(ctx: &Context, cmd: &Command) -> Result<Reply> {
        let key = format!("note/{}/{}", ctx.actor()?, ctx.invocation_id());
        storage::set_json(&key, &cmd.args)?;
        scheduler::schedule("remind", ctx.now() + Duration::from_secs(60), &cmd.args)?;
        Ok(Reply::text("noted"))
    }

    fn on_action(_ctx: &Context, _action: &str, _payload: &Json) -> Result<Json> {
        storage::set("doomed", b"x")?;
        messaging::post(&Message::text("never seen"))?;
        log::warn("about to fail", &[("why", "test")]);
        Err(Error::conflict("on purpose"))
    }

    fn on_event(_ctx: &Context, event: &Event) -> Result<()> {
        if let Event::TimerFired(timer) = event {
            messaging::post(&Message::text(format!("reminder: {}", timer.payload)))?;
        }
        Ok(())
    }
}

fn group() -> TestGroup<Notes> {
    TestGroup::new()
        .member("ann", "Ann", Role::Owner)
        .member("bob", "Bob", Role::Member)
}

#[test]
fn failed_invocations_roll_back_but_keep_logs() {
    let mut g = group();
    let err = g.action("ann", "fail", json!({})).expect_err("fails");
    assert_eq!(err, Error::conflict("on purpose"));
    assert!(g.storage().is_empty());
    assert!(g.posted().is_empty());
    assert_eq!(g.logs().len(), 1);
    assert_eq!(g.logs()[0].fields, [("why".to_owned(), "test".to_owned())]);
}

#[test]
fn timers_fire_when_the_clock_passes_them() {
    let mut g = group();
    g.command("ann", "/note buy milk").expect("noted");
    assert_eq!(g.timers().len(), 1);
    assert_eq!(g.advance(Duration::from_secs(59)).expect("no error"), 0);
    assert_eq!(g.advance(Duration::from_secs(1)).expect("fires"), 1);
    assert_eq!(g.last_posted(), Some(&Message::text("reminder: buy milk")));
    assert!(g.timers().is_empty());
}

#[test]
fn withheld_capabilities_answer_denied_and_change_nothing() {
    let mut g = group().without(Capability::Scheduler);
    let err = g.command("ann", "/note x").expect_err("denied");
    assert_eq!(err.code(), "denied");
    assert!(
        g.storage().is_empty(),
        "the storage write before the denied call is rolled back"
    );
    g.grant(Capability::Scheduler);
    assert!(g.command("ann", "/note x").is_ok());
}

#[test]
fn undeclared_commands_and_actions_are_refused() {
    let mut g = group();
    assert_eq!(
        g.command("ann", "/nope").map_err(|e| e.code()),
        Err("invalid")
    );
    assert_eq!(
        g.action("ann", "nope", Json::Null).map_err(|e| e.code()),
        Err("invalid")
    );
}

#[test]
fn storage_lists_page_by_page_and_membership_too() {
    let mut g = group();
    for i in 0..2500 {
        g.set_stored(&format!("k/{i:05}"), b"1");
    }
    g.set_stored("other", b"1");
    let (all, members, page) = g
        .run(None, |_| {
            let all = storage::list_all("k/")?;
            let page = storage::list("k/", None, 10)?;
            Ok((all, membership::all_members()?, page))
        })
        .expect("lists");
    assert_eq!(all.len(), 2500);
    assert_eq!(page.next_cursor.as_deref(), Some("k/00009"));
    assert_eq!(
        members.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["ann", "bob"]
    );
}

#[test]
fn compare_and_swap_and_direct_messages() {
    let mut g = group();
    g.run(Some("ann"), |_| {
        assert!(storage::compare_and_swap("c", None, Some(b"1"))?);
        assert!(!storage::compare_and_swap("c", None, Some(b"2"))?);
        assert!(storage::compare_and_swap("c", Some(b"1"), None)?);
        messaging::send_direct("bob", &Message::text("hi"))?;
        assert_eq!(
            messaging::send_direct("eve", &Message::text("hi")).map_err(|e| e.code()),
            Err("not-found")
        );
        Ok(())
    })
    .expect("runs");
    assert!(g.storage().is_empty());
    assert_eq!(
        g.direct_messages(),
        [("bob".to_owned(), Message::text("hi"))]
    );
}

#[test]
fn payments_are_idempotent_and_refunds_bounded() {
    let mut g = group();
    let request = crate::payments::PaymentRequest {
        payer: "bob".into(),
        amount: 500,
        currency: "CNY".into(),
        memo: "ticket".into(),
        idempotency_key: "k1".into(),
    };
    let id = g
        .run(None, |_| {
            let a = payments::request(&request)?;
            let b = payments::request(&request)?;
            assert_eq!(a, b);
            let other = crate::payments::PaymentRequest {
                amount: 1,
                ..request.clone()
            };
            assert_eq!(
                payments::request(&other).map_err(|e| e.code()),
                Err("conflict")
            );
            Ok(a.id)
        })
        .expect("requests");
    g.settle_payment(&id).expect("settles");
    g.run(None, |_| {
        assert_eq!(payments::refund(&id, 300, "r1")?.refunded, 300);
        assert_eq!(payments::refund(&id, 300, "r1")?.refunded, 300);
        assert_eq!(
            payments::refund(&id, 300, "r2").map_err(|e| e.code()),
            Err("invalid")
        );
        Ok(())
    })
    .expect("refunds");
}

#[test]
fn actor_is_required_where_asked() {
    let mut g = group();
    let err = g
        .run(None, |ctx| ctx.actor().map(str::to_owned))
        .expect_err("no actor");
    assert_eq!(err.code(), "invalid");
}
