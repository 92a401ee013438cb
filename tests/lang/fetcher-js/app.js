// fetcher-js: built WITHOUT componentize-js's `-d http` (the default build
// of the tool, `qun-build-js --default-features`), so it imports
// `wasi:http/types` and `wasi:http/outgoing-handler`. The host links them
// and refuses every outgoing request: `/fetch URL` answers with what the
// app saw (an error, never a response, never a connection).
import { defineApp } from '@qun/sdk';

let seen = '';

const app = defineApp({
  name: 'fetcher-js',
  title: 'Fetcher (JavaScript)',
  version: '0.1.0',
  description: 'Tries an outgoing fetch (host tests: it must be refused).',
  commands: [{ name: 'fetch', description: 'Fetch a URL and say what happened' }],
  onCommand() {
    return seen;
  },
});

// componentize-js runs the event loop until a Promise an export returns
// settles: the fetch is awaited here, then the SDK's (synchronous) handler
// answers with what it saw.
export const handler = {
  ...app,
  async onCommand(ctx, command) {
    const url = command.args.trim() || 'http://127.0.0.1:9/';
    try {
      const response = await fetch(url);
      seen = `fetched: ${response.status}`;
    } catch (e) {
      console.log(`fetch ${url} failed: ${e && e.message}`);
      seen = `refused: ${e && e.name}: ${e && e.message}`;
    }
    return app.onCommand(ctx, command);
  },
};
