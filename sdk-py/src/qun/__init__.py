"""qun: write Qun group apps in Python.

    from qun import App, Describe, Reply, Message, Button, export
    from qun import storage          # importing a capability module asks for it

    class Checkin(App):
        def describe(self):
            return Describe("checkin", "Daily check-in").command("checkin", "Check in")

        def on_command(self, ctx, cmd):
            storage.set_json(f"{ctx.today()}/{ctx.require_actor()}", True)
            return "checked in"

    Handler = export(Checkin)

Capability modules (`qun.storage`, `qun.scheduler`, `qun.messaging`,
`qun.membership`, `qun.log`, `qun.payments`, `qun.files`) are not imported
here: the build reads which ones the app imports, and that is what the app
asks a group owner for.
"""

from .app import ActionCall, App, Command, Context, Describe, Event, Submission, export, value_of
from .errors import Conflict, Denied, Internal, Invalid, NotFound, QunError, QuotaExceeded
from .message import ActionAnswer, Button, Form, Input, MemberPicker, Message, Reply, Select, to_json

__version__ = "0.1.0"

__all__ = [
    "App", "export", "Describe", "Context", "Command", "ActionCall", "Submission", "Event", "value_of",
    "QunError", "Denied", "NotFound", "Invalid", "QuotaExceeded", "Conflict", "Internal",
    "Message", "Button", "Select", "MemberPicker", "Form", "Input", "Reply", "ActionAnswer", "to_json",
    "CAPABILITIES",
]

#: The capability interfaces an app can ask for (`log` is always granted).
CAPABILITIES = ("membership", "messaging", "payments", "storage", "scheduler", "log", "files")
