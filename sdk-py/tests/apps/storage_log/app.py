"""A test app that uses only storage and log (and the helpers in notes.py)."""

from qun import App, Denied, Describe, Invalid, export, log

from notes import remember


class StorageLog(App):
    def describe(self):
        return (Describe("storage-log", "Storage and log").command("note", "Keep a note")
                .command("boom", "Fail").command("third", "A third, with a lazy import").command("deny", "Refuse").command("bad", "Invalid")
                .action("count", "Count notes"))

    def on_command(self, ctx, cmd):
        if cmd.name == "boom":
            print("printed before failing")
            return [][1]
        if cmd.name == "third":
            import fractions  # imported inside a handler: the build pre-imports it

            return str(fractions.Fraction(1, 3))
        if cmd.name == "deny":
            raise Denied("only the owner may")
        if cmd.name == "bad":
            raise Invalid(f"bad input: {cmd.args}")
        n = remember(ctx.require_actor(), cmd.args)
        log.info("noted", n=n)
        print(f"noted {n}")
        return f"noted #{n}"

    def on_action(self, ctx, call):
        from notes import count

        return {"count": count()}


Handler = export(StorageLog)
