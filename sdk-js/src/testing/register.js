// `node --import @qun/sdk/testing/register --test`: maps the component's
// imports `qun:app/<interface>@0.2.0` to the in-memory host of the test
// harness, so an app's modules load and run under plain Node.
import { register } from 'node:module';
import { fileURLToPath } from 'node:url';

try {
  import.meta.resolve('timezone-support/index-1900-2050');
} catch {
  const sdk = fileURLToPath(new URL('../..', import.meta.url));
  throw new Error(`@qun/sdk's dependencies are not installed: run \`npm ci\` in ${sdk} (or ./scripts/js.sh setup in the Qun checkout)`);
}

register('./hooks.js', import.meta.url);
