"""checkin-py's logic, tested without wasm through qun.testing."""

import pytest

from qun import Denied, NotFound
from qun.testing import TestGroup

from app import DAY_MS, Checkin


def group():
    return TestGroup(Checkin).member("ann", "Ann", "owner").member("bob", "Bob").member("cy", "Cy")


def test_describe():
    info = group().describe()
    assert info.name == "checkin-py"
    assert [c.name for c in info.commands] == ["checkin"]
    assert [a.name for a in info.actions] == ["checkin", "whos-in"]


def test_checkin_posts_the_card_and_schedules_the_summary():
    g = group()
    reply = g.command("ann", "/checkin in the office")
    assert reply.kind == "private" and reply.message().text == "Ann checked in for 2026-01-01."
    card = g.last_posted()
    assert card.title() == "Check-in 2026-01-01"
    assert card.get_field("Checked in") == "1"
    assert [b.label for b in card.buttons()] == ["Check in", "Who's in"]
    assert g.stored_json("day/2026-01-01/ann")["note"] == "in the office"
    assert [(t.key, t.at) for t in g.timers()] == [("summary/2026-01-01", g.now + DAY_MS)]
    assert g.private_replies("ann")[0].text.startswith("Ann checked in")
    assert g.private_replies("bob") == []


def test_button_checks_in_and_updates_the_same_card():
    g = group()
    g.command("ann", "/checkin")
    card = g.last_posted_id()
    assert g.click("bob", card, "Check in").message().text == "Bob checked in for 2026-01-01."
    assert len(g.posted()) == 1  # the card was updated, not posted again
    assert g.message_for("cy", card).get_field("Checked in") == "2"
    assert g.messages()[0].updates == 1
    assert len(g.timers()) == 1


def test_checking_in_twice_changes_nothing():
    g = group()
    g.command("ann", "/checkin")
    before = g.storage
    assert g.command("ann", "/checkin").message().text == "You already checked in today (2026-01-01)."
    assert g.storage == before


def test_whos_in_is_private():
    g = group()
    g.command("ann", "/checkin early")
    card = g.last_posted_id()
    g.click("bob", card, "Check in")
    reply = g.click("cy", card, "Who's in")
    assert reply.kind == "private"
    assert reply.message().text == "2 checked in on 2026-01-01: Ann (early), Bob"
    assert len(g.private_replies("cy")) == 1


def test_summary_timer_posts_the_day():
    g = group()
    g.command("ann", "/checkin")
    g.click("bob", g.last_posted_id(), "Check in")
    assert g.advance(DAY_MS) == 1
    summary = g.last_posted()
    assert summary.title() == "Check-in summary 2026-01-01"
    assert summary.text == "Summary for 2026-01-01: 2 checked in (Ann, Bob)"
    assert g.timers() == []
    # The next day starts afresh, with a new card and a new timer.
    g.command("cy", "/checkin")
    assert g.last_posted().title() == "Check-in 2026-01-02"
    assert [t.key for t in g.timers()] == ["summary/2026-01-02"]
    assert [l.message for l in g.logs()][-2:] == ["summary posted", "checked in"]


def test_without_messaging_a_checkin_leaves_nothing_behind():
    g = group().deny("messaging")
    with pytest.raises(Denied):
        g.command("ann", "/checkin")
    assert g.storage == {} and g.timers() == [] and g.posted() == []


def test_timers_fire_with_no_actor_and_commands_need_a_member():
    g = group()
    with pytest.raises(NotFound):
        g.command("zed", "/checkin")
