"""checkin-py: a daily check-in app, written in Python with qun-sdk.

- `/checkin [note]` checks the member in for today (UTC) and posts (or
  updates) today's card with its buttons.
- **Check in** (a button on the card) does the same for whoever clicks it;
  **Who's in** answers privately with today's list.
- The first check-in of a day schedules a timer at the end of that day; when it
  fires, the app posts the day's summary.

Capabilities (what its imports ask for): storage, messaging, scheduler,
membership, log.
"""

from qun import App, Button, Describe, Message, Reply, export
from qun import log, membership, messaging, scheduler, storage

DAY_MS = 24 * 60 * 60 * 1000


def day_start(now: int) -> int:
    return now - now % DAY_MS


def checked_in(day: str):
    """Today's check-ins, in the order members checked in."""
    entries = [v for _, v in storage.list_json(f"day/{day}/")]
    return sorted(entries, key=lambda e: e["at"])


def card(day: str) -> Message:
    people = checked_in(day)
    names = ", ".join(p["name"] for p in people) or "nobody yet"
    return (
        Message(f"Check-in {day}: {len(people)} checked in")
        .header(f"Check-in {day}")
        .fields([("Checked in", str(len(people)))])
        .context(names)
        .actions([
            Button("Check in", "checkin", {"day": day}).primary(),
            Button("Who's in", "whos-in", {"day": day}),
        ])
    )


def check_in(ctx, note: str = "") -> str:
    """Checks the acting member in for today; what to tell them."""
    who = ctx.require_actor()
    day = ctx.today()
    key = f"day/{day}/{who}"
    if storage.get(key) is not None:
        return f"You already checked in today ({day})."
    name = membership.member(who).display_name
    storage.set_json(key, {"id": who, "name": name, "at": ctx.now, "note": note})
    card_id = storage.get_text(f"card/{day}")
    if card_id is None:
        # The first check-in of the day: post the card and schedule the summary.
        storage.set_text(f"card/{day}", messaging.post(card(day)))
        scheduler.schedule(f"summary/{day}", day_start(ctx.now) + DAY_MS, day)
    else:
        messaging.update(card_id, card(day))
    log.info("checked in", member=who, day=day)
    return f"{name} checked in for {day}."


class Checkin(App):
    def describe(self):
        return (
            Describe("checkin-py", "Daily check-in (Python)")
            .version("0.1.0")
            .description("Members check in once a day with /checkin or the card's button; "
                         "a summary is posted at the end of the day.")
            .command("checkin", "Check in for today: /checkin [note]")
            .action("checkin", "Check in for today")
            .action("whos-in", "Who checked in today")
        )

    def on_command(self, ctx, cmd):
        return Reply.private(check_in(ctx, cmd.args))

    def on_action(self, ctx, call):
        if call.name == "checkin":
            return Reply.private(check_in(ctx))
        if call.name == "whos-in":
            day = (call.json() or {}).get("day") or ctx.today()
            people = checked_in(day)
            lines = [f"{p['name']}" + (f" ({p['note']})" if p["note"] else "") for p in people]
            text = f"{len(people)} checked in on {day}" + (": " + ", ".join(lines) if lines else "")
            return Reply.private(Message(text).paragraph(text))
        return super().on_action(ctx, call)

    def on_event(self, ctx, event):
        if event.kind == "timer-fired" and event.timer.key.startswith("summary/"):
            day = event.timer.payload
            people = checked_in(day)
            names = ", ".join(p["name"] for p in people) or "nobody"
            messaging.post(
                Message(f"Summary for {day}: {len(people)} checked in ({names})")
                .header(f"Check-in summary {day}")
                .fields([("Checked in", str(len(people)))])
                .paragraph(names)
            )
            log.info("summary posted", day=day, count=len(people))


Handler = export(Checkin)
