// thrower-js: `boom` throws an uncaught TypeError; `fine` answers.
// Asks for nothing: it imports no capability module.
import { defineApp } from '@qun/sdk';

function explode(order) {
  return order.items.length; // `order` has no `items`: a TypeError
}

export const handler = defineApp({
  name: 'thrower-js',
  title: 'Thrower (JavaScript)',
  version: '0.1.0',
  description: 'Throws an uncaught error on purpose (host tests).',
  actions: [
    { name: 'boom', description: 'Throw an uncaught error' },
    { name: 'fine', description: 'Answer normally' },
  ],
  onAction(ctx, call) {
    if (call.name === 'boom') {
      console.log('about to explode');
      return { size: explode({ id: 'order-17' }) };
    }
    return { ok: true };
  },
});
