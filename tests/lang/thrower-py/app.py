"""thrower-py: `boom` raises an uncaught KeyError; `fine` answers.

Asks for nothing: it imports no capability module.
"""

from qun import App, Describe, export


def explode(order: dict) -> int:
    return len(order["items"])  # no "items": a KeyError


class Thrower(App):
    def describe(self):
        return (
            Describe("thrower-py", "Thrower (Python)")
            .version("0.1.0")
            .description("Raises an uncaught error on purpose (host tests).")
            .action("boom", "Raise an uncaught error")
            .action("fine", "Answer normally")
        )

    def on_action(self, ctx, call):
        if call.name == "boom":
            print("about to explode")
            return {"size": explode({"id": "order-17"})}
        return {"ok": True}


Handler = export(Thrower)
