// Type-checked by the SDK tests (tsc --noEmit): the declarations fit real use.
import { defineApp, Message, Button, Form, Input, Reply, answer, Denied, type Context } from '@qun/sdk';
import * as storage from '@qun/sdk/storage';
import * as scheduler from '@qun/sdk/scheduler';
import * as messaging from '@qun/sdk/messaging';
import * as membership from '@qun/sdk/membership';
import * as log from '@qun/sdk/log';
import * as files from '@qun/sdk/files';
import * as payments from '@qun/sdk/payments';
import { TestGroup } from '@qun/sdk/testing';

function count(ctx: Context): number {
  return storage.updateJson<number>(`n/${ctx.requireActor()}`, (n = 0) => n + 1) ?? 0;
}

export const handler = defineApp({
  name: 'typed',
  commands: [{ name: 'go', description: 'Go', options: [Input.integer('n', 'N').required().min(1)] }],
  actions: ['hit'],
  onCommand(ctx, cmd) {
    const n = cmd.option<number>('n') ?? 0;
    log.info('go', { n });
    scheduler.scheduleRecurring('t', scheduler.weekly(['monday'], 9), { n });
    const id: string = messaging.post(new Message('x').actions([new Button('Hit', 'hit').payload({ n })]));
    messaging.delete(id);
    if (n > 10) throw new Denied('too many');
    return new Form('F', 'f').input(Input.text('a', 'A').required());
  },
  onAction(ctx, call) {
    const name: string = membership.actorName(ctx);
    return answer({ name, count: count(ctx), payload: call.payload }, Reply.private(name));
  },
  onEvent(ctx, event) {
    if (event.type === 'timer-fired') storage.setJson('due', event.timer.due);
    if (event.type === 'payment-settled') payments.refund(event.payment.id, event.payment.amount, 'k');
    const f: files.FileInfo = files.create('a.txt', 'hello');
    void f;
  },
});

const g = new TestGroup(handler).member('ann', 'Ann', 'owner');
const out = g.command('ann', '/go 3');
const text: string | undefined = out.text;
void text;
