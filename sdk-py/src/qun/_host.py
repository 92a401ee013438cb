"""Where capability calls go: the component's imports, or the test harness.

`qun.testing.TestGroup` installs a fake host for the length of one
invocation; otherwise calls go to `wit_world.imports.<capability>`, which exist
in a component whose world imports that capability (the build puts it there
because the app imports the SDK module).
"""

import sys

from . import _wit
from .errors import from_wit

_fake = None


def install(fake):
    global _fake
    if fake is not None and _fake is not None:
        raise RuntimeError("a TestGroup invocation is already running; invocations cannot nest")
    _fake = fake


def call(capability: str, function: str, *args):
    """Calls `capability.function(*args)`; a WIT error raises the SDK exception."""
    if _fake is not None:
        target = _fake.capability(capability)
    elif sys.platform == "wasi":
        target = _wit.capability(capability)
    else:
        raise RuntimeError(
            f"qun.{capability} was called outside an invocation: in tests, run app code "
            "through qun.testing.TestGroup (command, click, action, event or run)"
        )
    try:
        return getattr(target, function)(*args)
    except _wit.Err as err:
        raise from_wit(err.value) from None
