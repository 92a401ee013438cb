import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defineApp, Denied, Invalid, Internal, NotFound, Message, Button, Select, MemberPicker, Form, Input, Reply, answer } from '@qun/sdk';
import * as storage from '@qun/sdk/storage';
import * as log from '@qun/sdk/log';
import * as scheduler from '@qun/sdk/scheduler';
import * as messaging from '@qun/sdk/messaging';
import * as membership from '@qun/sdk/membership';
import * as payments from '@qun/sdk/payments';
import * as files from '@qun/sdk/files';
import { TestGroup, Trap, START } from '@qun/sdk/testing';

const app = defineApp({
  name: 'probe',
  title: 'Probe',
  commands: [
    { name: 'put', description: 'store then maybe fail' },
    { name: 'who', description: 'who am I' },
    { name: 'later', description: 'schedule' },
    { name: 'card', description: 'post a card' },
    { name: 'ask', description: 'open a form' },
    { name: 'event', description: 'typed', options: [Input.text('title', 'Title').required(), Input.integer('seats', 'Seats').required().min(1)] },
  ],
  actions: [{ name: 'hit', description: 'a button' }, { name: 'api', description: 'API' }, { name: 'plain', description: 'plain data' }, { name: 'size', description: 'menu' }, { name: 'assign', description: 'picker' }],
  onCommand(ctx, cmd) {
    switch (cmd.name) {
      case 'put': {
        storage.setJson('k', cmd.args);
        messaging.post(`stored ${cmd.args}`);
        scheduler.schedule('t', ctx.now + 1000, { v: cmd.args });
        log.info('stored', { value: cmd.args });
        if (cmd.args === 'fail') throw new Error('it broke');
        if (cmd.args === 'deny') throw new Denied('not you');
        if (cmd.args === 'invalid') throw new Invalid('bad input');
        if (cmd.args === 'weird') throw 42;
        return `ok ${cmd.args}`;
      }
      case 'who': return Reply.private(`${membership.actorName(ctx)} (${membership.currentGroup().memberCount} members)`);
      case 'later': scheduler.scheduleRecurring('daily', scheduler.daily(18, 0), 'p'); return undefined;
      case 'card': return new Message('card').header('Card').fields({ Count: 0 }).actions([new Button('Hit', 'hit').payload({ n: 1 }).primary()])
        .actions([new Select('size', 'Portion').option('s', 'Small').option('l', 'Large'), new MemberPicker('assign', 'Who?')]);
      case 'ask': return new Form('Ask', 'ask').input(Input.text('name', 'Name').required()).input(Input.integer('age', 'Age').range(0, 150)).state({ s: 1 });
      case 'event': return `${cmd.options.title} for ${cmd.options.seats}`;
    }
  },
  onAction(ctx, call) {
    if (call.name === 'api') return answer({ got: call.payload }, undefined);
    if (call.name === 'plain') return { got: call.payload, list: [1, 2] };
    if (call.name === 'size' || call.name === 'assign') return Reply.private(`${call.name}=${call.chosen} ${JSON.stringify(call.value)}`);
    storage.updateJson('hits', (n = 0) => n + call.payload.n);
    return Reply.private('hit');
  },
  onSubmit(ctx, sub) {
    if (sub.values.name === 'bad') return Reply.fieldError('name', 'not that one');
    storage.setJson(`name/${ctx.actor}`, { name: sub.values.name, age: sub.values.age, state: sub.state });
    return 'thanks';
  },
  onEvent(ctx, ev) {
    if (ev.type === 'timer-fired') storage.setJson('fired', { key: ev.timer.key, at: ctx.now, actor: ctx.actor ?? null });
    if (ev.type === 'member-joined') messaging.post(`welcome ${ev.member}`);
  },
});

const group = () => new TestGroup(app).member('ann', 'Ann', 'owner').member('bob', 'Bob');

test('a successful invocation keeps its writes, messages, timers and logs', () => {
  const g = group();
  const out = g.command('ann', '/put x');
  assert.equal(out.tag, 'post');
  assert.equal(out.text, 'ok x');
  assert.equal(g.storedJson('k'), 'x');
  assert.deepEqual(g.posted().map((m) => m.text), ['stored x', 'ok x']);
  assert.deepEqual(g.timers().map((t) => [t.key, t.at, t.payload]), [['t', START + 1000, '{"v":"x"}']]);
  assert.deepEqual(g.logs(), [{ level: 'info', message: 'stored', fields: { value: 'x' } }]);
});

test('a failed invocation discards its storage writes, messages and timers (log lines stay)', () => {
  const g = group();
  g.command('ann', '/put first');
  for (const [arg, cls, msg] of [['fail', Internal, 'it broke'], ['deny', Denied, 'not you'], ['invalid', Invalid, 'bad input'], ['weird', Internal, '42']]) {
    assert.throws(() => g.command('ann', `/put ${arg}`), (e) => e instanceof cls && e.message === msg, arg);
    assert.equal(g.storedJson('k'), 'first');
    assert.deepEqual(g.posted().map((m) => m.text), ['stored first', 'ok first']);
    assert.deepEqual(g.timers().map((t) => t.payload), ['{"v":"first"}']);
  }
  assert.equal(g.logs().length, 5);
  assert.match(g.output().map((o) => o.text).join('\n'), /command \/put failed: Error: it broke/);
});

test('timers fire with the clock at their due time and no actor; recurring ones re-arm', () => {
  const g = group();
  g.command('ann', '/put x');
  assert.equal(g.advance(999), 0);
  assert.equal(g.advance(1), 1);
  assert.deepEqual(g.storedJson('fired'), { key: 't', at: START + 1000, actor: null });
  g.command('ann', '/later');
  const first = g.timers()[0];
  assert.equal(first.at, Date.UTC(2026, 0, 1, 18, 0));
  assert.equal(g.advanceTo(Date.UTC(2026, 0, 3, 0, 0)), 2);
  assert.equal(g.timers()[0].at, Date.UTC(2026, 0, 3, 18, 0));
});

test('the daily rule follows the group time zone', () => {
  const g = group().zone('Asia/Shanghai', 'zh-CN');
  g.command('ann', '/later');
  assert.equal(g.timers()[0].at, Date.UTC(2026, 0, 1, 10, 0));
});

test('buttons, private replies, denial and members', () => {
  const g = group();
  const card = g.command('bob', '/card').messageId;
  assert.equal(g.messageFor('ann', card).field('Count'), '0');
  const out = g.click('ann', card, 'Hit');
  assert.equal(out.tag, 'private');
  assert.equal(g.storedJson('hits'), 1);
  assert.equal(g.privateReplies('ann').length, 1);
  assert.equal(g.privateReplies('bob').length, 0);
  assert.equal(g.messageFor('bob', out.messageId), undefined);
  assert.equal(g.command('bob', '/who').text, 'Bob (2 members)');
  g.deny('membership');
  assert.throws(() => g.command('bob', '/who'), Denied);
  assert.throws(() => g.command('bob', '/nope'), NotFound);
  assert.deepEqual(g.action('ann', 'api', { a: 1 }), { got: { a: 1 } });
  // A plain object is the action's data, as answer(data) is.
  assert.deepEqual(g.action('ann', 'plain', { b: 2 }), { got: { b: 2 }, list: [1, 2] });
  assert.equal(g.choose('ann', card, 'size', 'l').text, 'size=l ["l"]');
  assert.throws(() => g.choose('ann', card, 'size', 'xl'), Invalid);
  assert.equal(g.pick('ann', card, 'assign', 'bob').text, 'assign=bob "bob"');
  assert.throws(() => g.pick('ann', card, 'assign', 'zed'), NotFound);
  g.join('cat', 'Cat');
  assert.equal(g.lastPosted().text, 'welcome cat');
});

test('forms: the host checks values before the app, field errors keep the form open', () => {
  const g = group();
  assert.equal(g.command('ann', '/ask').tag, 'form');
  assert.deepEqual(g.submit('ann', { age: '7' }).errors, [{ input: 'name', message: 'required' }]);
  assert.deepEqual(g.submit('ann', { name: 'A', age: '200' }).errors, [{ input: 'age', message: 'at most 150' }]);
  assert.equal(g.submit('ann', { name: 'bad' }).tag, 'field-errors');
  assert.ok(g.openForm('ann'));
  assert.equal(g.submit('ann', { name: 'Ann', age: 30 }).text, 'thanks');
  assert.deepEqual(g.storedJson('name/ann'), { name: 'Ann', age: 30, state: { s: 1 } });
  assert.equal(g.openForm('ann'), undefined);
});

test('typed command options are parsed; a missing one opens the form', () => {
  const g = group();
  assert.equal(g.command('ann', '/event Hike | 10').text, 'Hike for 10');
  assert.equal(g.command('ann', '/event seats: 3 | title: Swim').text, 'Swim for 3');
  assert.throws(() => g.command('ann', '/event Hike | 0'), /seats: at least 1/);
  assert.equal(g.command('ann', '/event Hike').tag, 'form');
  assert.equal(g.submit('ann', { title: 'Hike', seats: 4 }).text, 'Hike for 4');
});

test('messages with an undeclared action are refused and roll back', () => {
  const bad = defineApp({ name: 'bad', commands: ['go'], onCommand() { storage.set('x', 'y'); return new Message('m').actions([new Button('B', 'undeclared')]); } });
  const g = new TestGroup(bad).member('ann');
  assert.throws(() => g.command('ann', '/go'), (e) => e instanceof Invalid && /undeclared/.test(e.message));
  assert.equal(g.storage().size, 0);
});

test('storage helpers: list, compare-and-swap, nextId, limits', () => {
  const g = group();
  g.run('ann', () => {
    for (let i = 0; i < 5; i++) storage.setJson(`a/${i}`, i);
    assert.deepEqual(storage.list('a/', { limit: 2 }).entries.map((e) => e.key), ['a/0', 'a/1']);
    assert.equal(storage.listAll('a/').length, 5);
    assert.deepEqual(storage.listJson('a/').map((e) => e.value), [0, 1, 2, 3, 4]);
    assert.equal(storage.compareAndSwap('c', undefined, 'v1'), true);
    assert.equal(storage.compareAndSwap('c', undefined, 'v2'), false);
    assert.equal(storage.getText('c'), 'v1');
    assert.equal(storage.nextId('ids'), '1');
    assert.equal(storage.nextId('ids'), '2');
    assert.equal(storage.delete('c'), true);
    assert.throws(() => storage.set('k'.repeat(600), 'v'), Invalid);
  });
  assert.equal(g.storedJson('ids'), 2);
});

test('payments and files', () => {
  const g = group();
  const id = g.run('ann', () => payments.request({ payer: 'bob', amount: 500, currency: 'CNY', memo: 'lunch', idempotencyKey: 'k1' }).id);
  g.settlePayment(id);
  assert.equal(g.payments()[0].status, 'settled');
  const upload = g.upload('bob', 'a.txt', 'hello');
  assert.throws(() => g.run('ann', () => files.stat(upload)), NotFound);
  const info = g.run('bob', () => files.stat(upload), { given: [upload] });
  assert.equal(info.contentType, 'text/plain');
  const made = g.run('ann', () => files.create('b.txt', 'bytes'));
  assert.equal(new TextDecoder().decode(g.fileBytes(made.id)), 'bytes');
  assert.equal(g.appFiles().length, 2);
  assert.throws(() => g.run('ann', () => { files.create('c.txt', 'x'); throw new Error('no'); }), Internal);
  assert.equal(g.appFiles().length, 2);
});

test('capability calls outside an invocation say so', () => {
  assert.throws(() => storage.get('x'), /outside an invocation/);
});

test('the harness refuses an app the host would refuse, and events carry event ids', () => {
  assert.throws(() => new TestGroup(defineApp({ name: 'Bad Name' })), /would refuse this app: name/);
  assert.throws(() => new TestGroup(defineApp({ name: 'dup', commands: ['a', 'a'] })), /declared twice/);
  let seen;
  const g = new TestGroup(defineApp({ name: 'ev', onEvent(ctx) { seen = ctx.eventId; } }));
  g.install();
  assert.equal(seen, 'event:1');
});
