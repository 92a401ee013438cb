import { test } from 'node:test';
import assert from 'node:assert/strict';
import { zonedParts, dateIn, formatIn, fromZonedParts, Context } from '@qun/sdk';

test('time on the group clock without Intl: dates, formatting, wall-clock to moment, DST', () => {
  const ts = Date.UTC(2026, 0, 1, 17, 30); // 01:30 on 2 January in Shanghai
  assert.equal(dateIn(ts, 'UTC'), '2026-01-01');
  assert.equal(dateIn(ts, 'Asia/Shanghai'), '2026-01-02');
  assert.equal(formatIn(ts, 'Asia/Shanghai'), '2026-01-02 01:30 (Asia/Shanghai)');
  assert.deepEqual(zonedParts(ts, 'America/New_York'), { year: 2026, month: 1, day: 1, hour: 12, minute: 30, second: 0, weekday: 4 });
  assert.equal(fromZonedParts({ year: 2026, month: 1, day: 2, hour: 1, minute: 30 }, 'Asia/Shanghai'), ts);
  // Europe/Berlin is UTC+2 in July (summer time), UTC+1 in January
  assert.equal(fromZonedParts({ year: 2026, month: 7, day: 1, hour: 12 }, 'Europe/Berlin'), Date.UTC(2026, 6, 1, 10));
  assert.equal(fromZonedParts({ year: 2026, month: 1, day: 1, hour: 12 }, 'Europe/Berlin'), Date.UTC(2026, 0, 1, 11));
  const ctx = new Context({ groupId: 'g', installationId: 'i', actor: undefined, now: BigInt(ts), invocationId: 'x', timeZone: 'Asia/Shanghai', locale: 'zh-CN' });
  assert.equal(ctx.date(), '2026-01-02');
  assert.equal(ctx.at(20), Date.UTC(2026, 0, 2, 12));
  assert.throws(() => ctx.requireActor(), /no member acted/);
});
