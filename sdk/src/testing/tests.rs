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

    fn on_action(_ctx: &Context, _call: &ActionCall) -> Result<ActionAnswer> {
        storage::set("doomed", b"x")?;
        messaging::post(&Message::new("never seen"))?;
        log::warn("about to fail", &[("why", "test")]);
        Err(Error::conflict("on purpose"))
    }

    fn on_event(_ctx: &Context, event: &Event) -> Result<()> {
        if let Event::TimerFired(timer) = event {
            messaging::post(&Message::new(format!("reminder: {}", timer.payload)))?;
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
    assert!(g.messages().is_empty());
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
    assert_eq!(g.last_posted(), Some(&Message::new("reminder: buy milk")));
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
fn undeclared_commands_are_not_found_and_undeclared_actions_reach_the_app() {
    let mut g = group();
    assert_eq!(
        g.command("ann", "/nope").map_err(|e| e.code()),
        Err("not-found")
    );
    // The host passes an undeclared action on; this app fails every action.
    let err = g
        .action("ann", "nope", json!({}))
        .expect_err("the app refuses");
    assert_eq!(err, Error::conflict("on purpose"));
    // An empty request body is refused before the app runs, as the API does.
    let err = g.action_raw("ann", "fail", "").expect_err("empty body");
    assert_eq!(err.code(), "invalid");
    assert!(g.logs().len() == 1, "the app ran once: {:?}", g.logs());
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
        messaging::send_direct("bob", &Message::new("hi"))?;
        assert_eq!(
            messaging::send_direct("eve", &Message::new("hi")).map_err(|e| e.code()),
            Err("not-found")
        );
        Ok(())
    })
    .expect("runs");
    assert!(g.storage().is_empty());
    assert_eq!(
        g.direct_messages(),
        [("bob".to_owned(), Message::new("hi"))]
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

/// A small app using everything 0.2 adds: a live card updated in place, a
/// private reply, a form with a next step, typed command options.
struct Board;

impl App for Board {
    fn describe() -> Describe {
        Describe::new("board", "Board")
            .command_with(
                Describe::spec("ask", "Ask a question")
                    .option(
                        Input::text("question", "The question")
                            .required()
                            .max_length(100),
                    )
                    .option(Input::integer("limit", "Most answers").min(1).max(10)),
            )
            .command("card", "Post the counter card")
            .action("bump", "Count one more")
            .action("mine", "How many did I bump?")
    }

    fn on_command(_ctx: &Context, cmd: &Command) -> Result<Reply> {
        match cmd.name.as_str() {
            "card" => {
                let id = messaging::post(&card(0)?)?;
                storage::set_json("card", &id)?;
                Ok(Reply::none())
            }
            _ => {
                let question: String = cmd.option("question")?;
                let limit: Option<u32> = cmd.option("limit")?;
                Ok(Form::new(question, "answer")
                    .input(Input::text("answer", "Your answer").required().multiline())
                    .state(&json!({ "limit": limit }))?
                    .into())
            }
        }
    }

    fn on_action(ctx: &Context, call: &ActionCall) -> Result<ActionAnswer> {
        let me = format!("mine/{}", ctx.actor()?);
        if call.name == "mine" {
            let n: u32 = storage::get_json(&me)?.unwrap_or(0);
            return Ok(Reply::private(Message::new(format!("You bumped {n} times"))).into());
        }
        let total = storage::update_json("total", |n: &mut u32| {
            *n += 1;
            Ok(())
        })?;
        storage::update_json(&me, |n: &mut u32| {
            *n += 1;
            Ok(())
        })?;
        let id: MessageId =
            storage::get_json("card")?.ok_or_else(|| Error::not_found("no card"))?;
        messaging::update(&id, &card(total)?)?;
        Ok(json!({ "total": total }).into())
    }

    fn on_submit(_ctx: &Context, submission: &Submission) -> Result<Reply> {
        let answer: String = submission.value("answer")?;
        if answer.trim() == "?" {
            return Ok(Reply::field_error("answer", "say a little more"));
        }
        Ok(Reply::text(format!("Answer: {answer}")))
    }
}

fn card(total: u32) -> Result<Message> {
    Ok(Message::new(format!("{total} bumps"))
        .header("Counter")
        .fields([("Bumps", total.to_string())])
        .actions([
            Button::new("Bump", "bump").style(ButtonStyle::Primary),
            Button::new("Mine", "mine").payload(&json!({}))?,
        ]))
}

fn board() -> TestGroup<Board> {
    TestGroup::new()
        .member("ann", "Ann", Role::Owner)
        .member("bob", "Bob", Role::Member)
}

#[test]
fn a_card_is_updated_in_place_and_private_replies_reach_one_member() {
    let mut g = board();
    g.command("ann", "/card").expect("posts");
    let id = g.last_posted_id().expect("a card");
    g.click("bob", &id, "Bump").expect("bumps");
    g.click("ann", &id, "Bump").expect("bumps");
    assert_eq!(g.posted().len(), 1, "updated, not posted again");
    assert_eq!(
        g.message_for("ann", &id).and_then(|m| m.field("Bumps")),
        Some("2")
    );
    assert_eq!(g.messages()[0].updates, 2);

    let reply = g.click("bob", &id, "Mine").expect("answers");
    assert_eq!(reply, Reply::private(Message::new("You bumped 1 times")));
    assert_eq!(g.private_replies("bob").len(), 1);
    assert!(g.private_replies("ann").is_empty());
    assert_eq!(g.timeline("bob").len(), 2);
    assert_eq!(
        g.timeline("ann").len(),
        1,
        "ann never sees bob's private reply"
    );
    let private = g.messages()[1].id.clone();
    assert!(g.message_for("ann", &private).is_none());
    assert_eq!(
        g.click("ann", &private, "Mine").map_err(|e| e.code()),
        Err("not-found")
    );
}

#[test]
fn forms_are_checked_like_the_host_checks_them() {
    let mut g = board();
    // A wrong typed option is refused naming the option; the app never runs.
    let err = g
        .command("ann", "/ask Why? | lots")
        .expect_err("not a number");
    assert!(err.message().contains("limit"), "{err}");
    // A missing required option opens the command's form.
    let form = g.command("ann", "/ask").expect("a form");
    assert!(form.as_form().is_some());
    assert!(g.open_form("ann").is_some());
    let reply = g.submit("ann", json!({})).expect("checked");
    assert_eq!(reply.errors()[0].input, "question");
    g.submit("ann", json!({"question": "Why?", "limit": 3}))
        .expect("runs the command");
    // The command answered with the app's own form.
    assert_eq!(
        g.open_form("ann").map(|f| f.form.callback()),
        Some("answer")
    );
    assert!(
        g.submit("bob", json!({"answer": "x"})).is_err(),
        "only ann's"
    );
    let again = g
        .submit("ann", json!({"answer": "?"}))
        .expect("app's errors");
    assert_eq!(again.errors()[0].message, "say a little more");
    g.submit("ann", json!({"answer": "Because"})).expect("done");
    assert!(g.open_form("ann").is_none());
    assert_eq!(
        g.last_posted().map(|m| m.text.as_str()),
        Some("Answer: Because")
    );
}

#[test]
fn the_hosts_quotas_hold() {
    let mut g = group();
    let big = vec![b'x'; 64 * 1024 + 1];
    let err = g
        .run(None, |_| storage::set("big", &big))
        .expect_err("too large");
    assert_eq!(err.code(), "invalid");
    assert!(err.message().contains("65536"), "{err}");
    let err = g
        .run(None, |_| {
            for i in 0..61 {
                messaging::post(&Message::new(format!("m{i}")))?;
            }
            Ok(())
        })
        .expect_err("rate");
    assert_eq!(err.code(), "quota-exceeded");
    assert!(g.messages().is_empty(), "rolled back");
}

#[test]
fn recurring_timers_fire_again_even_after_a_failure() {
    let mut g = group();
    g.run(None, |_| {
        scheduler::schedule_recurring("daily", &scheduler::daily(18, 0), "x")
    })
    .expect("scheduled");
    assert_eq!(g.timers()[0].at.to_string(), "2026-01-01T18:00:00Z");
    assert_eq!(
        g.advance(Duration::from_secs(2 * 86_400)).expect("fires"),
        2
    );
    assert_eq!(g.timers()[0].at.to_string(), "2026-01-03T18:00:00Z");
    assert_eq!(g.posted().len(), 2);
}

#[test]
fn payload_errors_name_the_field() {
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Vote {
        poll: String,
        choices: Vec<usize>,
    }
    let err = from_payload::<Vote>(&json!({"poll": "1", "choices": [0, "x"]}))
        .err()
        .expect("refused");
    assert!(err.message().contains("choices[1]"), "{err}");
    let err = from_payload::<Vote>(&json!({"poll": 1, "choices": []}))
        .err()
        .expect("refused");
    assert!(err.message().contains("poll"), "{err}");
}

#[test]
fn help_is_the_hosts_private_reply() {
    let mut g = board();
    let reply = g.command("bob", "/help").expect("help");
    let Reply::Private(help) = reply else {
        panic!("not private: {reply:?}")
    };
    assert!(help.rendered().contains("/ask"), "{}", help.rendered());
    assert!(g.private_replies("ann").is_empty());
}

/// Menus, member pickers and deleted messages.
struct Chores;

impl App for Chores {
    fn describe() -> Describe {
        Describe::new("chores", "Chores")
            .command("chores", "Post the chores card")
            .action("size", "Pick a size")
            .action("assign", "Pick who cooks")
            .action("done", "Remove the card")
    }

    fn on_command(_ctx: &Context, _cmd: &Command) -> Result<Reply> {
        let card = Message::new("Chores").actions([
            Element::from(
                Select::new("size", "Portion")
                    .option("s", "Small")
                    .option("l", "Large"),
            ),
            MemberPicker::new("assign", "Who cooks?").into(),
            Button::new("Done", "done").into(),
        ]);
        let id = messaging::post(&card)?;
        storage::set_json("card", &id)?;
        Ok(Reply::none())
    }

    fn on_action(_ctx: &Context, call: &ActionCall) -> Result<ActionAnswer> {
        match call.name.as_str() {
            "size" => {
                let size: String = call.chosen()?;
                Ok(Reply::private(Message::new(format!("size {size}"))).into())
            }
            "assign" => {
                let who: MemberId = call.chosen()?;
                Ok(Reply::text(format!("{who} cooks")).into())
            }
            _ => {
                let id = call
                    .message_id
                    .clone()
                    .ok_or_else(|| Error::invalid("no card"))?;
                messaging::delete(&id)?;
                Ok(Reply::none().into())
            }
        }
    }
}

#[test]
fn menus_pickers_and_deleted_messages() {
    let mut g: TestGroup<Chores> =
        TestGroup::new()
            .member("ann", "Ann", Role::Owner)
            .member("bob", "Bob", Role::Member);
    g.command("ann", "/chores").expect("posted");
    let card = g.last_posted_id().expect("card");
    let reply = g.choose("bob", &card, "size", "l").expect("chosen");
    assert_eq!(reply, Reply::private(Message::new("size l")));
    assert_eq!(
        g.choose("bob", &card, "size", "xl").map_err(|e| e.code()),
        Err("invalid"),
        "not an option"
    );
    assert_eq!(
        g.pick("ann", &card, "assign", "eve").map_err(|e| e.code()),
        Err("invalid"),
        "not a member"
    );
    g.pick("ann", &card, "assign", "bob").expect("picked");
    assert_eq!(g.last_posted().map(|m| m.text.as_str()), Some("bob cooks"));
    g.click("ann", &card, "Done").expect("deleted");
    assert!(g.message_for("ann", &card).is_none());
    assert!(g.messages()[0].deleted);
    assert_eq!(
        g.click("bob", &card, "Done").map_err(|e| e.code()),
        Err("not-found"),
        "a deleted message has nothing to press"
    );
    // Updating or deleting it again is not-found, as on the host.
    let err = g.run(None, |_| messaging::delete(&card)).expect_err("gone");
    assert_eq!(err.code(), "not-found");
}

/// A tiny PNG header is enough for the host to call it an image.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR rest of the picture";

struct Album;

impl App for Album {
    fn describe() -> Describe {
        Describe::new("album", "Album")
            .command("photos", "Add photos")
            .command("note", "Keep a note as a file")
            .action("show", "Show a file")
            .action("fail", "Create a file, then fail")
            .action("delete", "Delete a file")
            .action("big", "Read a big file")
            .subscribe(Subscription::MessagePosted)
    }

    fn on_command(_ctx: &Context, cmd: &Command) -> Result<Reply> {
        if cmd.name == "note" {
            let info = files::create("note.txt", cmd.args.as_bytes())?;
            return Ok(Reply::Post(
                Message::new("a note")
                    .file(&info.id)
                    .text(info.content_type),
            ));
        }
        Ok(Reply::Form(
            Form::new("Photos", "photos").input(
                Input::file("photos", "Photos")
                    .required()
                    .max_files(3)
                    .accept(["image/", "application/pdf"]),
            ),
        ))
    }

    fn on_submit(_ctx: &Context, submission: &Submission) -> Result<Reply> {
        let ids = submission.files("photos")?;
        let mut message = Message::new("photos");
        for id in &ids {
            let info = files::stat(id)?;
            let bytes = files::read_all(id)?;
            assert_eq!(bytes.len() as u64, info.size);
            message = if info.is_image() {
                message.image(id, info.name.clone())
            } else {
                message.file(id)
            };
        }
        storage::set_json("photos", &ids)?;
        Ok(Reply::Post(message))
    }

    fn on_action(_ctx: &Context, call: &ActionCall) -> Result<ActionAnswer> {
        let id: String = call.payload::<String>().unwrap_or_default();
        match call.name.as_str() {
            "show" => Ok(Reply::Post(Message::new("shown").image(id, "a picture")).into()),
            "fail" => {
                files::create("doomed.txt", b"never")?;
                Err(Error::conflict("on purpose"))
            }
            "delete" => Ok(json!(files::delete(&id)?).into()),
            "big" => {
                let mut writer = files::FileWriter::create("big.bin")?;
                let piece = vec![7u8; 300 << 10];
                for _ in 0..10 {
                    writer.write(&piece)?;
                }
                assert_eq!(writer.written(), 3_000 << 10);
                let info = writer.finish()?;
                let back = files::read_all(&info.id)?;
                assert!(back.iter().all(|b| *b == 7));
                let middle = files::read(&info.id, 1 << 20, 10)?;
                assert_eq!(middle, [7; 10]);
                assert!(files::read(&info.id, info.size + 5, 10)?.is_empty());
                assert_eq!(
                    files::read(&info.id, 0, (1 << 20) + 1).map_err(|e| e.code()),
                    Err("invalid")
                );
                Ok(json!({"size": back.len(), "id": info.id}).into())
            }
            _ => Err(Error::invalid("unknown action")),
        }
    }

    fn on_event(_ctx: &Context, event: &Event) -> Result<()> {
        if let Event::MessagePosted(m) = event {
            for id in &m.files {
                let bytes = files::read_all(id)?;
                storage::set(&format!("posted/{id}"), &bytes)?;
            }
        }
        Ok(())
    }
}

fn album() -> TestGroup<Album> {
    TestGroup::new()
        .member("ann", "Ann", Role::Owner)
        .member("bob", "Bob", Role::Member)
}

#[test]
fn a_member_gives_the_app_photos_in_a_form_and_others_download_them() {
    let mut g = album();
    let photo = g.upload("bob", "cat.png", PNG).expect("uploaded");
    let pdf = g
        .upload("bob", "essay.pdf", b"%PDF-1.7 ...")
        .expect("uploaded");
    let info = g.file(&photo).expect("exists");
    assert_eq!(
        (info.content_type.as_str(), info.size),
        ("image/png", PNG.len() as u64)
    );
    assert_eq!(info.sha256.len(), 64);
    assert_eq!(info.uploaded_by.as_deref(), Some("bob"));
    assert!(g.app_files().is_empty(), "not the app's until given");
    assert_eq!(
        g.download("ann", &photo).map_err(|e| e.code()),
        Err("not-found")
    );

    g.command("bob", "/photos").expect("form");
    let reply = g
        .submit("bob", json!({"photos": [photo, pdf]}))
        .expect("submitted");
    let posted = reply_message(&reply);
    assert_eq!(posted.images(), [(photo.as_str(), "cat.png")]);
    assert_eq!(posted.files(), [photo.as_str(), pdf.as_str()]);
    assert!(posted.rendered().contains(&format!("[file {pdf}]")));
    assert_eq!(g.app_files().len(), 2, "given files became the app's own");
    assert_eq!(g.download("ann", &photo).expect("shown to ann"), PNG);
    assert_eq!(
        g.stored_json::<Vec<String>>("photos"),
        Some(vec![photo, pdf])
    );
}

fn reply_message(reply: &Reply) -> Message {
    match reply {
        Reply::Post(m) | Reply::Private(m) => m.clone(),
        other => panic!("expected a message, got {other:?}"),
    }
}

#[test]
fn file_inputs_refuse_other_types_and_other_members_files() {
    let mut g = album();
    let page = g
        .upload("bob", "page.html", b"<!DOCTYPE html><p>hi")
        .expect("uploaded");
    let anns = g.upload("ann", "ann.png", PNG).expect("uploaded");
    assert_eq!(
        g.file(&page).map(|f| f.content_type),
        Some("text/html".into())
    );
    g.command("bob", "/photos").expect("form");
    let errors = g
        .submit("bob", json!({"photos": [page]}))
        .expect("answered");
    assert_eq!(errors.errors().len(), 1, "{errors:?}");
    assert_eq!(errors.errors()[0].input, "photos");
    assert!(
        errors.errors()[0].message.contains("text/html"),
        "{errors:?}"
    );
    let errors = g
        .submit("bob", json!({"photos": [anns]}))
        .expect("answered");
    assert!(
        errors.errors()[0]
            .message
            .contains("not a file you uploaded")
    );
    let errors = g.submit("bob", json!({"photos": []})).expect("answered");
    assert_eq!(errors.errors()[0].message, "needs a file");
    assert!(g.app_files().is_empty());
    assert!(g.open_form("bob").is_some(), "the form stays open");
}

#[test]
fn created_files_exist_only_if_the_invocation_succeeds() {
    let mut g = album();
    let err = g.action("ann", "fail", json!(null)).expect_err("fails");
    assert_eq!(err.code(), "conflict");
    assert!(g.app_files().is_empty());
    g.command("ann", "/note buy milk").expect("noted");
    let files = g.app_files();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].name, "note.txt");
    assert_eq!(files[0].content_type, "text/plain");
    assert_eq!(files[0].uploaded_by, None);
    assert_eq!(
        g.file_bytes(&files[0].id).as_deref(),
        Some(&b"buy milk"[..])
    );
    assert_eq!(g.download("bob", &files[0].id).expect("shown"), b"buy milk");
}

#[test]
fn files_are_written_and_read_a_mebibyte_at_a_time_within_the_limits() {
    let mut g = album();
    let answer = g.action("ann", "big", json!(null)).expect("written");
    assert_eq!(answer["size"], 3_000 << 10);

    let mut g = album().limits(Limits {
        file_bytes: 1000,
        ..Limits::default()
    });
    let err = g.action("ann", "big", json!(null)).expect_err("too large");
    assert_eq!(err.code(), "invalid");
    assert_eq!(
        g.upload("bob", "x.txt", &[b'a'; 1001])
            .map_err(|e| e.code()),
        Err("invalid")
    );

    let mut g = album().limits(Limits {
        installation_file_bytes: 5,
        ..Limits::default()
    });
    let err = g
        .command("ann", "/note more than five")
        .expect_err("over quota");
    assert_eq!(err.code(), "quota-exceeded");
    assert!(err.message().contains("installation"), "{err}");

    let mut g = album().limits(Limits {
        group_file_bytes: 10,
        ..Limits::default()
    });
    g.upload("bob", "a.txt", b"123456").expect("fits");
    let err = g.upload("bob", "b.txt", b"123456").expect_err("over quota");
    assert_eq!(err.code(), "quota-exceeded");
    assert!(err.message().contains("group"), "{err}");
}

#[test]
fn files_without_the_grant_are_denied() {
    let mut g = album().without(Capability::Files);
    let err = g.command("ann", "/note x").expect_err("denied");
    assert_eq!(err.code(), "denied");
    assert!(err.message().contains("`files`"), "{err}");
    assert!(g.app_files().is_empty());
}

#[test]
fn messages_show_only_the_apps_files_and_images_of_image_types() {
    let mut g = album();
    let photo = g.upload("bob", "cat.png", PNG).expect("uploaded");
    // Not given to the app: it may not show it.
    let err = g
        .action("ann", "show", json!(photo))
        .expect_err("not the app's");
    assert_eq!(err.code(), "invalid");
    g.command("ann", "/note text").expect("noted");
    let note = g.app_files()[0].id.clone();
    let err = g
        .action("ann", "show", json!(note))
        .expect_err("not an image");
    assert!(err.message().contains("text/plain"), "{err}");
}

#[test]
fn attachments_of_posted_messages_are_given_and_let_go() {
    let mut g = album();
    let photo = g.upload("bob", "cat.png", PNG).expect("uploaded");
    assert_eq!(
        g.post_as("ann", "not mine", &[&photo])
            .map_err(|e| e.code()),
        Err("invalid")
    );
    g.post_as("bob", "look", &[&photo]).expect("heard");
    assert_eq!(
        g.storage()
            .get(&format!("posted/{photo}"))
            .map(Vec::as_slice),
        Some(PNG)
    );
    assert_eq!(g.app_files().len(), 1);
    assert_eq!(
        g.action("ann", "delete", json!(photo)).expect("deleted"),
        json!(true)
    );
    assert_eq!(
        g.action("ann", "delete", json!(photo)).expect("gone"),
        json!(false)
    );
    // The app let go of it; bob's upload stays his (as on the host).
    assert!(g.app_files().is_empty());
    assert!(g.file(&photo).is_some());
    assert!(g.download("bob", &photo).is_ok());
}

#[test]
fn code_run_with_given_files_reads_them_and_keeps_them_only_on_success() {
    let mut g = album();
    let photo = g.upload("bob", "cat.png", PNG).expect("uploaded");
    let err = g
        .run(Some("bob"), |_| files::stat(&photo))
        .expect_err("not given");
    assert_eq!(err.code(), "not-found");
    let failed = g.run_given(Some("bob"), &[&photo], |_| {
        assert_eq!(files::read(&photo, 0, 4)?, &PNG[..4]);
        Err::<(), _>(Error::internal("on purpose"))
    });
    assert!(failed.is_err());
    assert!(
        g.app_files().is_empty(),
        "a failed invocation keeps nothing"
    );
    let info = g
        .run_given(Some("bob"), &[&photo], |_| files::stat(&photo))
        .expect("given");
    assert_eq!(info.name, "cat.png");
    assert_eq!(g.app_files(), [info]);
    // Now the app's own: readable in any later invocation.
    let again = g.run(None, |_| files::read_all(&photo)).expect("its own");
    assert_eq!(again, PNG);
}

#[test]
fn the_writer_is_an_io_write_and_names_are_checked() {
    use std::io::Write as _;
    let mut g = album();
    let info = g
        .run(None, |_| {
            let mut w = files::FileWriter::create("data.json")?;
            serde_json::to_writer(&mut w, &json!({"a": 1}))?;
            w.flush().map_err(|e| Error::internal(e.to_string()))?;
            w.finish()
        })
        .expect("written");
    assert_eq!(g.file_bytes(&info.id).as_deref(), Some(&br#"{"a":1}"#[..]));
    for bad in ["", "  ", "a/b", "x\ny"] {
        let err = g
            .run(None, |_| files::create(bad, b"x"))
            .expect_err("refused");
        assert_eq!(err.code(), "invalid", "{bad:?}");
    }
    // An upload not finished is dropped with the invocation.
    g.run(None, |_| files::FileWriter::create("left.txt")?.write(b"x"))
        .expect("fine");
    assert_eq!(g.app_files().len(), 1);
}
