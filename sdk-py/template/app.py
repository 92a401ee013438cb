"""{{name}}: a Qun group app written in Python (qun-sdk).

`/hello` greets the member and counts greetings; the **Again** button on the
reply greets again. Capabilities: storage and log (what this module imports).
"""

from qun import App, Button, Describe, Message, Reply, export
from qun import log, storage


class HelloApp(App):
    def describe(self):
        return (
            Describe("{{name}}", "{{title}}")
            .version("0.1.0")
            .description("Says hello and counts greetings.")
            .command("hello", "Say hello: /hello [name]")
            .action("again", "Say hello again")
        )

    def on_command(self, ctx, cmd):
        return self.greet(ctx, cmd.args or "there")

    def on_action(self, ctx, call):
        if call.name == "again":
            return self.greet(ctx, call.json()["to"])
        return super().on_action(ctx, call)

    def greet(self, ctx, to: str):
        count = storage.update_json("greetings", lambda n: n + 1, 0)
        log.info("greeted", to=to, count=count)
        return Reply.post(
            Message(f"Hello, {to}! ({count} greetings so far)")
            .paragraph(f"Hello, *{to}*!")
            .context(f"{count} greetings so far")
            .actions([Button("Again", "again", {"to": to})])
        )


Handler = export(HelloApp)
