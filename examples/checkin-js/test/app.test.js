import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Denied } from '@qun/sdk';
import { TestGroup, START } from '@qun/sdk/testing';
import * as app from '../app.js';

// QUN_COMPONENT=path/to/checkin-js.wasm runs these same tests against the
// built component (transpiled by jco, its imports on the same in-memory
// host) instead of the module: ./scripts/js.sh test does both.
const { SUMMARY_HOUR } = app;
let handler = app.handler;
if (process.env.QUN_COMPONENT) {
  const { loadComponent } = await import('@qun/sdk/testing/component');
  const component = await loadComponent(process.env.QUN_COMPONENT);
  handler = component.handler(); // a fresh instance per call, as on the host
}

const group = () => new TestGroup(handler).member('ann', 'Ann', 'owner').member('bob', 'Bob').member('cy', 'Cy');

test('describe names the app checkin-js with its command and actions', () => {
  const info = group().describe();
  assert.equal(info.name, 'checkin-js');
  assert.deepEqual(info.commands.map((c) => c.name), ['checkin']);
  assert.deepEqual(info.actions.map((a) => a.name), ['checkin', 'who']);
});

test('/checkin stores the check-in, posts the card and answers privately', () => {
  const g = group();
  const out = g.command('ann', '/checkin');
  assert.equal(out.tag, 'private');
  assert.equal(out.text, "You're checked in for 2026-01-01 (1 today).");
  assert.deepEqual(g.storedJson('in/2026-01-01/ann'), { name: 'Ann', at: START });
  const card = g.lastPosted();
  assert.equal(card.title(), 'Check-in · 2026-01-01');
  assert.deepEqual(card.buttons().map((b) => b.label), ['Check in', "Who's in"]);
  assert.equal(g.command('ann', '/checkin').text, 'You already checked in for 2026-01-01.');
  assert.equal(g.posted().length, 1, 'one card a day');
});

test('the card button checks in and updates the card in place; "Who\'s in" lists names', () => {
  const g = group();
  g.command('ann', '/checkin');
  const card = g.lastPostedId();
  assert.equal(g.click('bob', card, 'Check in').text, "You're checked in for 2026-01-01.");
  assert.equal(g.messageFor('cy', card).paragraphs()[0], 'Ann, Bob are in.');
  assert.equal(g.messages()[0].updates, 1);
  const who = g.click('cy', card, "Who's in");
  assert.equal(who.text, 'In on 2026-01-01: Ann, Bob');
  assert.equal(g.privateReplies('cy').length, 1);
  assert.equal(g.privateReplies('ann').length, 1);
});

test('the first check-in arms the daily summary, which posts who came', () => {
  const g = group();
  assert.deepEqual(g.timers(), []);
  g.command('ann', '/checkin');
  g.command('bob', '/checkin');
  const [timer] = g.timers();
  assert.equal(timer.key, 'daily-summary');
  assert.equal(timer.at, Date.UTC(2026, 0, 1, SUMMARY_HOUR));
  assert.equal(g.advanceTo(Date.UTC(2026, 0, 1, 21)), 1);
  const summary = g.lastPosted();
  assert.equal(summary.title(), 'Summary · 2026-01-01');
  assert.equal(summary.paragraphs()[0], '• Ann\n• Bob');
  // the next day starts empty; the timer re-armed itself
  assert.equal(g.timers()[0].at, Date.UTC(2026, 0, 2, SUMMARY_HOUR));
  g.advanceTo(Date.UTC(2026, 0, 2, 21));
  assert.equal(g.lastPosted().paragraphs()[0], 'Nobody checked in today.');
});

test('installing arms the summary once; days follow the group time zone', () => {
  const g = group().zone('Asia/Shanghai', 'zh-CN');
  g.install();
  g.setNow(Date.UTC(2026, 0, 1, 17)); // 01:00 on 2 January in Shanghai
  g.command('ann', '/checkin');
  assert.equal(g.timers().length, 1);
  assert.equal(g.timers()[0].at, Date.UTC(2026, 0, 1, SUMMARY_HOUR - 8));
  assert.ok(g.storedJson('in/2026-01-02/ann'));
});

test('an invocation that fails leaves nothing behind', () => {
  const g = group().deny('messaging');
  assert.throws(() => g.command('ann', '/checkin'), Denied);
  assert.equal(g.storage().size, 0, 'the check-in written before the failed post is gone');
  assert.deepEqual(g.timers(), []);
  assert.ok(g.logs().some((l) => l.message === 'daily summary armed'), 'log lines stay');
});
