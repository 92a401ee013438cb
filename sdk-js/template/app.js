// {{name}}: a Qun group app. `/hello` greets the member and counts the
// greetings; the card's button says hello again.
//
// Each capability is a module: importing `@qun/sdk/storage` is what makes
// this app ask the group owner for `storage` (see README.md).
import { defineApp, Message, Button } from '@qun/sdk';
import * as storage from '@qun/sdk/storage';
import * as log from '@qun/sdk/log';

function greet(ctx) {
  const member = ctx.requireActor();
  const count = storage.updateJson(`greetings/${member}`, (n = 0) => n + 1);
  log.info('greeted', { member, count });
  return new Message(`Hello, ${member}! (${count})`)
    .text(`Hello, ${member}! That makes ${count}.`)
    .actions([new Button('Hello again', 'hello').primary()]);
}

export const handler = defineApp({
  name: '{{name}}',
  title: '{{title}}',
  version: '0.1.0',
  description: 'Says hello and counts.',
  commands: [{ name: 'hello', description: 'Say hello' }],
  actions: [{ name: 'hello', description: 'Say hello again' }],
  onCommand(ctx, cmd) {
    return greet(ctx);
  },
  onAction(ctx, call) {
    return greet(ctx);
  },
});
