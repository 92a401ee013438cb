// checkin-js: members check in once a day with /checkin or the card's
// button; "Who's in" lists today's check-ins; every evening at 20:00 (the
// group's clock) a timer posts the day's summary.
//
// Capabilities (read from the imports): storage, messaging, membership,
// scheduler, log.
import { defineApp, Message, Button, Reply } from '@qun/sdk';
import * as storage from '@qun/sdk/storage';
import * as messaging from '@qun/sdk/messaging';
import * as membership from '@qun/sdk/membership';
import * as scheduler from '@qun/sdk/scheduler';
import * as log from '@qun/sdk/log';

/** When the daily summary is posted, on the group's clock. */
export const SUMMARY_HOUR = 20;
const SUMMARY_TIMER = 'daily-summary';

/** Keys: `in/<day>/<member>` → { name, at }; `card/<day>` → the day's card id; `summary` → true once the timer is armed. */
const checkinKey = (day, member) => `in/${day}/${member}`;

function checkins(day) {
  return storage.listJson(`in/${day}/`).map((e) => e.value);
}

function card(day, list) {
  const names = list.map((c) => c.name);
  return new Message(`Check-in ${day}: ${list.length} in`)
    .header(`Check-in · ${day}`)
    .text(list.length ? `${names.join(', ')} ${list.length === 1 ? 'is' : 'are'} in.` : 'Nobody has checked in yet.')
    .context(`${list.length} checked in · summary at ${SUMMARY_HOUR}:00`)
    .actions([new Button('Check in', 'checkin').payload({ day }).primary(), new Button("Who's in", 'who').payload({ day })]);
}

/** Arms the daily summary once (on install, or at the first check-in of an app installed before). */
function ensureSummary() {
  if (storage.getJson('summary')) return;
  const first = scheduler.scheduleRecurring(SUMMARY_TIMER, scheduler.daily(SUMMARY_HOUR, 0), '');
  storage.setJson('summary', true);
  log.info('daily summary armed', { first: new Date(first).toISOString() });
}

/** Checks the actor in for today; whether they were new. */
function checkIn(ctx) {
  const member = ctx.requireActor();
  const day = ctx.date();
  const key = checkinKey(day, member);
  if (storage.get(key) !== undefined) return { day, fresh: false };
  storage.setJson(key, { name: membership.actorName(ctx), at: ctx.now });
  ensureSummary();
  return { day, fresh: true };
}

/** Posts today's card, or updates it in place if it is already up. */
function showCard(day) {
  const message = card(day, checkins(day));
  const id = storage.getJson(`card/${day}`);
  if (id) {
    messaging.update(id, message);
    return id;
  }
  const newId = messaging.post(message);
  storage.setJson(`card/${day}`, newId);
  return newId;
}

export const handler = defineApp({
  name: 'checkin-js',
  title: 'Daily check-in (JavaScript)',
  version: '0.1.0',
  description: 'Members check in once a day with /checkin or a button; an evening summary says who came.',
  commands: [{ name: 'checkin', description: 'Check in for today' }],
  actions: [
    { name: 'checkin', description: 'Check in for today' },
    { name: 'who', description: "Who's in today" },
  ],

  onCommand(ctx, cmd) {
    const { day, fresh } = checkIn(ctx);
    showCard(day);
    const count = checkins(day).length;
    return Reply.private(fresh ? `You're checked in for ${day} (${count} today).` : `You already checked in for ${day}.`);
  },

  onAction(ctx, call) {
    if (call.name === 'who') {
      const day = call.payload?.day ?? ctx.date();
      const list = checkins(day);
      return Reply.private(list.length ? `In on ${day}: ${list.map((c) => c.name).join(', ')}` : `Nobody checked in on ${day}.`);
    }
    const { day, fresh } = checkIn(ctx);
    showCard(day);
    return Reply.private(fresh ? `You're checked in for ${day}.` : `You already checked in for ${day}.`);
  },

  onEvent(ctx, event) {
    if (event.type === 'installed') ensureSummary();
    if (event.type === 'timer-fired' && event.timer.key === SUMMARY_TIMER) {
      const day = ctx.date(event.timer.due);
      const list = checkins(day);
      messaging.post(
        new Message(`Check-in summary ${day}: ${list.length}`)
          .header(`Summary · ${day}`)
          .text(list.length ? list.map((c) => `• ${c.name}`).join('\n') : 'Nobody checked in today.')
          .context(`${list.length} checked in`),
      );
      log.info('summary posted', { day, count: list.length });
    }
  },
});
