import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Denied } from '@qun/sdk';
import { TestGroup } from '@qun/sdk/testing';
import { handler } from '../app.js';

test('/hello greets and counts', () => {
  const g = new TestGroup(handler).member('ann', 'Ann', 'owner');
  assert.equal(g.command('ann', '/hello').text, 'Hello, ann! (1)');
  const card = g.lastPostedId();
  assert.equal(g.click('ann', card, 'Hello again').text, 'Hello, ann! (2)');
  assert.equal(g.storedJson('greetings/ann'), 2);
});

test('without storage the command is denied and nothing is posted', () => {
  const g = new TestGroup(handler).member('ann', 'Ann', 'owner').deny('storage');
  assert.throws(() => g.command('ann', '/hello'), Denied);
  assert.deepEqual(g.posted(), []);
});
