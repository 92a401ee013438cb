"""The SDK's own tests: handlers, errors, builders and the harness."""

import pytest

import qun
from qun import (App, Button, Conflict, Denied, Describe, Form, Input, Internal, Invalid, Message, NotFound,
                 Reply, export)
from qun import log, membership, messaging, scheduler, storage
from qun._wit import handler as h, types as t, Err
from qun.testing import Limits, TestGroup


class Notes(App):
    def describe(self):
        return (Describe("notes", "Notes").version("1.2.3").description("Keeps notes")
                .command("note", "Keep a note").command("boom", "Fail").command("deny", "Refuse")
                .command("half", "Write then fail").command("card", "Post a card")
                .command("remind", "Remind me").command("ask", "Open a form")
                .action("like", "Like a note").action("show", "Show notes"))

    def on_command(self, ctx, cmd):
        who = ctx.require_actor()
        if cmd.name == "note":
            n = storage.next_id("counter")
            storage.set_json(f"note/{n}", {"by": who, "text": cmd.args})
            log.info("noted", id=n)
            return f"noted #{n}"
        if cmd.name == "boom":
            print("about to fail")
            return {"x": 1}["missing"]
        if cmd.name == "deny":
            raise Denied("only admins may do that")
        if cmd.name == "half":
            storage.set_json("half", True)
            messaging.post("half-posted")
            scheduler.schedule("half", ctx.now + 1000, "")
            raise Invalid(f"no args given: {cmd.args!r}")
        if cmd.name == "card":
            card = (Message("Notes").header("Notes").paragraph("Press a button")
                    .fields([("Count", str(len(storage.list_all("note/"))))])
                    .actions([Button("Like", "like", {"n": 1}).primary(), Button("Show", "show")]))
            mid = messaging.post(card)
            storage.set_text("card", mid)
            return Reply.private("card posted")
        if cmd.name == "remind":
            scheduler.schedule_json("remind", ctx.now + 60_000, {"who": who})
            first = scheduler.schedule_recurring("daily", scheduler.daily(9, 30), "")
            return f"first daily at {first}"
        if cmd.name == "ask":
            return Form("Your note", "ask").input(Input.text("text", "Text").required().max_length(10)) \
                .input(Input.integer("stars", "Stars").range(1, 5)).state({"from": who})
        raise Invalid("unknown")

    def on_action(self, ctx, call):
        if call.name == "like":
            n = call.json()["n"]
            storage.update_json("likes", lambda v: v + n, 0)
            return qun.ActionAnswer(data={"likes": storage.get_json("likes")}, reply=Reply.private("liked"))
        if call.name == "show":
            return {"notes": [v["text"] for _, v in storage.list_json("note/")]}
        return None

    def on_submit(self, ctx, sub):
        if sub.value("text") == "bad":
            return Reply.field_error("text", "not that")
        storage.set_json("submitted", {"text": sub.value("text"), "stars": sub.value("stars"),
                                       "state": sub.state_json(), "step": sub.step})
        return Reply.private("thanks")

    def on_event(self, ctx, event):
        if event.kind == "timer-fired":
            storage.set_json(f"fired/{event.timer.key}", {"due": event.timer.due, "payload": event.timer_json()})
            if event.timer.key == "explode":
                raise RuntimeError("timer handler broke")
        elif event.kind == "member-joined":
            messaging.post(f"welcome {membership.member(event.value).display_name}")


Handler = export(Notes)


def group():
    return TestGroup(Notes).member("ann", "Ann", "owner").member("bob", "Bob")


# ---- the export wrapper: exceptions become WIT error variants, never traps

def ctx():
    return t.Context("g", "i", "ann", 0, "inv", "UTC", "en")


def test_describe_is_the_wit_record():
    info = Handler().describe()
    assert isinstance(info, h.AppInfo)
    assert (info.name, info.version, info.description) == ("notes", "1.2.3", "Keeps notes")
    assert [c.name for c in info.commands][:2] == ["note", "boom"]
    assert [a.name for a in info.actions] == ["like", "show"]


def test_uncaught_exception_becomes_internal_with_its_message(capsys):
    with pytest.raises(Err) as e:
        Handler().on_command(ctx(), h.Command("boom", "", []))
    assert e.value.value == t.Error_Internal("KeyError: 'missing'")
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "KeyError: 'missing'" in err


@pytest.mark.parametrize("exc,variant", [
    (Denied("no"), t.Error_Denied), (Invalid("no"), t.Error_Invalid), (NotFound("no"), t.Error_NotFound),
    (Conflict("no"), t.Error_Conflict), (qun.QuotaExceeded("no"), t.Error_QuotaExceeded), (Internal("no"), t.Error_Internal),
])
def test_raised_sdk_error_becomes_its_variant(exc, variant, capsys):
    class Raiser(App):
        def describe(self):
            return Describe("r", "R")

        def on_action(self, ctx, call):
            raise exc

    with pytest.raises(Err) as e:
        export(Raiser)().on_action(ctx(), h.ActionCall("x", "", None, None))
    assert e.value.value == variant("no")
    assert capsys.readouterr().err == ""  # an SDK error is an answer, not a crash: no traceback


def test_every_handler_is_wrapped():
    class Broken(App):
        def describe(self):
            return Describe("b", "B")

        def on_submit(self, ctx, s):
            raise ValueError("bad submit")

        def on_event(self, ctx, e):
            raise SystemExit(3)

    hd = export(Broken)()
    with pytest.raises(Err) as e:
        hd.on_submit(ctx(), h.Submission("cb", "", [], 1))
    assert e.value.value == t.Error_Internal("ValueError: bad submit")
    with pytest.raises(Err) as e:
        hd.on_event(ctx(), h.Event_Installed())
    assert e.value.value == t.Error_Internal("SystemExit: 3")
    with pytest.raises(Err) as e:  # the default on_command refuses unknown commands
        hd.on_command(ctx(), h.Command("nope", "", []))
    assert e.value.value == t.Error_Invalid("unknown command `nope`")


def test_return_values_become_responses():
    from qun._wit import blocks as b

    assert Reply.of(None).response == b.Response_None_()
    assert Reply.of("hi").response == b.Response_Post(b.Message("hi", []))
    assert Reply.of(Message("m").header("H")).kind == "post"
    assert Reply.of(Form("F", "cb")).kind == "form"
    with pytest.raises(TypeError):
        Reply.of(42)
    assert qun.ActionAnswer.of({"a": 1}).to_wit().data == '{"a":1}'


def test_builders_make_wit_blocks():
    m = (Message("Lunch?").header("Lunch?").paragraph("Vote").fields([("Noodles", "2")]).field("Rice", "1")
         .divider().context("Poll #1")
         .actions([Button("Close", "close", {"poll": "1"}).danger().confirm("Close?", "Nobody can vote after.")])
         .button(Button("Noodles", "vote")))
    assert m.title() == "Lunch?"
    assert m.all_fields() == [("Noodles", "2"), ("Rice", "1")]
    assert [b.label for b in m.buttons()] == ["Close", "Noodles"]
    assert m.get_button("Close").payload == '{"poll":"1"}'
    assert m.get_button("Close").confirm.title == "Close?"
    w = m.to_wit()
    assert w.text == "Lunch?" and len(w.blocks) == 6
    with pytest.raises(Invalid):
        Button("x", "y", style="loud")
    with pytest.raises(Invalid):
        Button("x", "y", payload={1, 2})  # a set is not JSON


# ---- the harness

def test_command_storage_and_log():
    g = group()
    assert g.command("ann", "/note buy milk").message().text == "noted #1"
    assert g.command("bob", "/note call mum").message().text == "noted #2"
    assert g.stored_json("note/2") == {"by": "bob", "text": "call mum"}
    assert [l.message for l in g.logs()] == ["noted", "noted"]
    assert g.logs()[0].fields == [("id", "1")]
    assert g.last_posted().text == "noted #2"  # a post reply is posted to the group


def test_failed_invocation_discards_its_writes_messages_and_timers():
    g = group()
    g.command("ann", "/note keep")
    before = g.storage
    with pytest.raises(Invalid, match="no args given"):
        g.command("ann", "/half x")
    assert g.storage == before
    assert "half" not in g.storage
    assert [m.text for m in g.posted()] == ["noted #1"]
    assert g.timers() == []


def test_uncaught_exception_in_the_harness_is_internal_and_logged():
    g = group()
    with pytest.raises(Internal, match="KeyError: 'missing'"):
        g.command("ann", "/boom")
    levels = [l.level for l in g.logs()]
    assert levels == ["stdout", "stderr"]  # what it printed, and the traceback
    assert "about to fail" in g.logs()[0].message
    assert "Traceback" in g.logs()[1].message and "KeyError" in g.logs()[1].message


def test_raised_denied_reaches_the_caller_as_denied():
    with pytest.raises(Denied, match="only admins"):
        group().command("ann", "/deny")


def test_withheld_capability_answers_denied_and_rolls_back():
    g = group().deny("messaging")
    g.command("ann", "/note first")
    with pytest.raises(Denied, match="`messaging` is not granted"):
        g.command("ann", "/card")
    assert "card" not in g.storage
    g.grant("messaging")
    g.command("ann", "/card")
    assert g.storage["card"] == b"2"


def test_cards_buttons_and_actions():
    g = group()
    g.command("ann", "/note one")
    g.command("bob", "/card")
    card = g.last_posted_id()
    assert g.message_for("ann", card).get_field("Count") == "1"
    assert g.private_replies("bob")[0].text == "card posted"
    assert g.private_replies("ann") == []
    reply = g.click("ann", card, "Like")
    assert reply.message().text == "liked" and reply.kind == "private"
    g.click("bob", card, "Like")
    assert g.stored_json("likes") == 2
    assert g.action("ann", "show") == {"notes": ["one"]}
    with pytest.raises(NotFound):
        g.click("ann", card, "Dislike")


def test_undeclared_action_in_a_message_is_refused():
    class Bad(App):
        def describe(self):
            return Describe("bad", "Bad").command("go", "Go")

        def on_command(self, ctx, cmd):
            return Message("x").actions([Button("Nope", "undeclared")])

    with pytest.raises(Invalid, match="`undeclared` is not declared"):
        TestGroup(Bad).member("ann", "Ann").command("ann", "/go")


def test_unknown_command_is_not_found():
    with pytest.raises(NotFound):
        group().command("ann", "/nothing")


def test_timers_fire_with_the_clock():
    g = group()
    g.command("ann", "/remind")
    assert [t.key for t in g.timers()] == ["daily", "remind"]
    daily = [t for t in g.timers() if t.key == "daily"][0]
    assert daily.at == g.now + (9 * 60 + 30) * 60_000  # 09:30 UTC on the first day
    assert g.advance(60_000) == 1
    assert g.stored_json("fired/remind") == {"due": g.now, "payload": {"who": "ann"}}
    assert g.advance(24 * 3_600_000) == 1  # the daily one, armed again
    assert [t.key for t in g.timers()] == ["daily"]
    assert g.timers()[0].at == daily.at + 24 * 3_600_000


def test_recurring_timer_in_the_group_zone():
    g = group().zone("Asia/Shanghai", "zh-CN")
    g.command("ann", "/remind")
    daily = [t for t in g.timers() if t.key == "daily"][0]
    assert daily.at == g.now + (1 * 60 + 30) * 60_000  # 09:30 in UTC+8 is 01:30 UTC


def test_failing_timer_handler_keeps_a_recurring_timer_and_logs():
    g = group()
    g.run(None, lambda ctx: scheduler.schedule("explode", ctx.now + 10, ""))
    with pytest.raises(Internal, match="RuntimeError: timer handler broke"):
        g.advance(10)
    assert "fired/explode" not in g.storage
    assert g.timers() == []
    assert "RuntimeError" in g.log_text()


def test_forms_open_submit_and_field_errors():
    g = group()
    assert g.command("ann", "/ask").kind == "form"
    assert g.open_form("ann").title == "Your note"
    assert g.submit("ann", {"stars": 3}).errors() == [("text", "required")]
    assert g.submit("ann", {"text": "way too long text"}).errors() == [("text", "at most 10 characters")]
    assert g.submit("ann", {"text": "ok", "stars": 9}).errors() == [("stars", "at most 5")]
    assert g.submit("ann", {"text": "bad"}).errors() == [("text", "not that")]
    assert g.submit("ann", {"text": "good", "stars": "4"}).message().text == "thanks"
    assert g.stored_json("submitted") == {"text": "good", "stars": 4, "state": {"from": "ann"}, "step": 1}
    assert g.open_form("ann") is None
    with pytest.raises(Invalid):
        g.submit("ann", {"text": "again"})


def test_members_and_events():
    g = group()
    g.join("cy", "Cy")
    assert g.last_posted().text == "welcome Cy"
    assert g.run("ann", lambda ctx: membership.actor_name(ctx)) == "Ann"
    assert g.run(None, lambda ctx: membership.current_group().member_count) == 3
    assert g.run(None, lambda ctx: membership.current_group().owner) == "ann"
    with pytest.raises(Invalid, match="no member acted"):
        g.run(None, lambda ctx: ctx.require_actor())
    with pytest.raises(NotFound):
        g.run(None, lambda ctx: membership.member("zed"))


def test_storage_semantics_and_limits():
    g = group().limits(Limits(value_bytes=10, storage_keys=3))

    def work(ctx):
        storage.set("a", b"1")
        storage.set("b", "two")
        assert storage.get("b") == b"two"  # reads see the invocation's own writes
        assert storage.compare_and_swap("a", b"1", b"3") is True
        assert storage.compare_and_swap("a", b"1", b"4") is False
        assert storage.compare_and_swap("new", None, b"x") is True
        page = storage.list("", None, 2)
        assert [e.key for e in page.entries] == ["a", "b"] and page.next_cursor == "b"
        assert storage.list_all() == [("a", b"3"), ("b", b"two"), ("new", b"x")]
        assert storage.delete("new") is True and storage.delete("new") is False

    g.run(None, work)
    assert g.storage == {"a": b"3", "b": b"two"}
    with pytest.raises(Invalid, match="limit is 10"):
        g.run(None, lambda ctx: storage.set("c", b"x" * 11))
    with pytest.raises(qun.QuotaExceeded):
        g.run(None, lambda ctx: [storage.set(k, b"") for k in "cdef"])
    assert sorted(g.storage) == ["a", "b"]


def test_capability_outside_an_invocation_is_a_clear_error():
    with pytest.raises(RuntimeError, match="outside an invocation"):
        storage.get("x")


def test_messaging_rate_and_private_and_direct():
    g = group().limits(Limits(messages_per_minute=2))

    def post3(ctx):
        for i in range(3):
            messaging.post(f"m{i}")

    with pytest.raises(qun.QuotaExceeded):
        g.run(None, post3)
    assert g.posted() == []
    g.run(None, lambda ctx: messaging.post_private("bob", "psst"))
    g.run(None, lambda ctx: messaging.send_direct("ann", Message("dm")))
    assert [m.text for m in g.private_replies("bob")] == ["psst"]
    assert [m.text for m in g.direct_messages_to("ann")] == ["dm"]
    mid = g.run(None, lambda ctx: messaging.post("v1"))
    g.run(None, lambda ctx: messaging.update(mid, "v2"))
    assert g.message_for("ann", mid).text == "v2"
    g.run(None, lambda ctx: messaging.delete(mid))
    assert g.message_for("ann", mid) is None
    with pytest.raises(NotFound):
        g.run(None, lambda ctx: messaging.update(mid, "v3"))


def test_payments_and_files():
    from qun import files, payments

    g = group()
    p = g.run("ann", lambda ctx: payments.request("bob", 500, "CNY", "lunch", "k1"))
    assert p.status == t.PaymentStatus.PENDING
    with pytest.raises(Conflict):
        g.run("ann", lambda ctx: payments.request("bob", 600, "CNY", "lunch", "k1"))
    g.settle_payment(p.id)
    assert g.payments()[0].status == t.PaymentStatus.SETTLED
    assert g.run(None, lambda ctx: payments.refund(p.id, 200, "r1")).refunded == 200

    photo = g.upload("bob", "a.png", b"\x89PNG\r\n\x1a\n" + b"0" * 10)
    with pytest.raises(NotFound):
        g.run(None, lambda ctx: files.stat(photo))  # not given to the app
    info = g.run("bob", lambda ctx: files.stat(photo), given=[photo])
    assert info.content_type == "image/png" and info.uploaded_by == "bob"
    assert g.run(None, lambda ctx: files.read_all(photo))[:4] == b"\x89PNG"  # now the app's own
    made = g.run(None, lambda ctx: files.create("notes.txt", "hello"))
    assert g.file_bytes(made.id) == b"hello" and g.file(made.id).content_type == "text/plain"
    with pytest.raises(Internal, match="ZeroDivisionError"):
        g.run(None, lambda ctx: (files.create("x.txt", "x"), 1 / 0))  # its file vanishes
    assert [f.name for f in g.app_files()] == ["a.png", "notes.txt"]


class Events(App):
    def describe(self):
        return (Describe("events", "Events")
                .command("event", "Create an event", [
                    Input.text("title", "What").required(),
                    (Input.integer("seats", "Seats").required().min(1), "How many seats"),
                    Input.checkbox("public", "Public"),
                ])
                .action("size", "Pick a size").action("assign", "Assign someone"))

    def on_command(self, ctx, cmd):
        storage.set_json("event", cmd.options)
        return Message(f"{cmd.option('title')} ({cmd.option('seats')})").actions([
            qun.Select("size", "Portion").option("s", "Small").option("l", "Large"),
            qun.MemberPicker("assign", "Who cooks?", {"event": 1}),
        ])

    def on_action(self, ctx, call):
        return Reply.private(f"{call.name}={call.value} payload={call.json()}")


def test_typed_command_options():
    info = TestGroup(Events).describe()
    opts = info.commands[0].options
    assert [(o.name, o.required, o.description) for o in opts] == [
        ("title", True, "What"), ("seats", True, "How many seats"), ("public", False, "Public")]
    g = TestGroup(Events).member("ann", "Ann").member("bob", "Bob")
    assert g.command("ann", "/event Hike | 10").message().text == "Hike (10)"
    assert g.stored_json("event") == {"title": "Hike", "seats": 10}
    g.command("ann", "/event Picnic | public: yes | seats: 4")
    assert g.stored_json("event") == {"title": "Picnic", "seats": 4, "public": True}
    g.command("ann", "/event", title="Dinner", seats=2)
    assert g.stored_json("event") == {"title": "Dinner", "seats": 2}
    with pytest.raises(Invalid, match="`seats` is required"):
        g.command("ann", "/event Lunch")
    with pytest.raises(Invalid, match="at least 1"):
        g.command("ann", "/event Lunch | 0")


def test_select_menus_and_member_pickers():
    g = TestGroup(Events).member("ann", "Ann").member("bob", "Bob")
    g.command("ann", "/event Hike | 3")
    card = g.last_posted_id()
    assert g.choose("bob", card, "size", "l").message().text == "size=l payload=None"
    assert g.pick("bob", card, "assign", "ann").message().text == "assign=ann payload={'event': 1}"
    with pytest.raises(Invalid):
        g.choose("bob", card, "size", "xl")
    with pytest.raises(NotFound):
        g.pick("bob", card, "assign", "zed")


def test_the_harness_refuses_commands_the_host_would_refuse():
    class Bad(App):
        def describe(self):
            return Describe("bad", "Bad").command("Check In", "Spaces and capitals")

    with pytest.raises(ValueError, match="would refuse this app at upload"):
        TestGroup(Bad)

    class Files(App):
        def describe(self):
            return Describe("f", "F").command("up", "Upload", [Input.file("doc", "Doc")])

    with pytest.raises(ValueError, match="files can only be chosen in a form"):
        TestGroup(Files)


def test_events_carry_event_ids_and_commands_do_not():
    seen = []

    class Ids(App):
        def describe(self):
            return Describe("ids", "Ids").command("go", "Go")

        def on_command(self, ctx, cmd):
            seen.append(ctx.event_id)

        def on_event(self, ctx, event):
            seen.append(ctx.event_id)

    g = TestGroup(Ids).member("ann", "Ann")
    g.command("ann", "/go")
    g.install()
    assert seen[0] is None and seen[1].startswith("event:")


def test_field_errors_only_answer_a_submission_and_answers_are_bounded():
    class Odd(App):
        def describe(self):
            return Describe("odd", "Odd").command("go", "Go").action("big", "Big")

        def on_command(self, ctx, cmd):
            storage.set("x", b"1")
            return Reply.field_error("x", "no form here")

        def on_action(self, ctx, call):
            storage.set("y", b"1")
            return {"blob": "x" * 100}

    g = TestGroup(Odd).member("ann", "Ann").limits(Limits(answer_bytes=50))
    with pytest.raises(Invalid, match="submission only"):
        g.command("ann", "/go")
    with pytest.raises(Invalid, match="at most 50 bytes"):
        g.action("ann", "big")
    assert g.storage == {}
