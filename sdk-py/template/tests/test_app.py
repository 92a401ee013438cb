import pytest

from qun import Denied
from qun.testing import TestGroup

from app import HelloApp


def group():
    return TestGroup(HelloApp).member("ann", "Ann", "owner").member("bob", "Bob")


def test_describe():
    assert group().describe().name == "{{name}}"


def test_hello_counts_greetings():
    g = group()
    assert g.command("ann", "/hello world").message().text == "Hello, world! (1 greetings so far)"
    reply = g.click("bob", g.last_posted_id(), "Again")
    assert reply.message().text == "Hello, world! (2 greetings so far)"
    assert g.stored_json("greetings") == 2
    assert [line.message for line in g.logs()] == ["greeted", "greeted"]


def test_a_failed_invocation_keeps_nothing():
    g = group().deny("storage")
    with pytest.raises(Denied):
        g.command("ann", "/hello")
    assert g.posted() == []
