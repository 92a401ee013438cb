// Drives a built probe component through the harness; prints `RESULT <json>`.
// Run by component.test.js in a child process so the component's stdout and
// stderr (WASI, written straight to the process's fds) can be read.
import { loadComponent } from '../src/testing/component.js';
import { TestGroup } from '../src/testing/index.js';

const [wasm] = process.argv.slice(2);
const c = await loadComponent(wasm);
const inst = await c.instantiate();
const g = new TestGroup(inst.handler).member('ann', 'Ann', 'owner').zone('Asia/Shanghai', 'zh-CN');
const results = { describe: g.describe() };
for (const arg of ['first', 'throw', 'denied', 'invalid', 'type']) {
  try {
    results[arg] = { ok: g.command('ann', `/put ${arg}`).text };
  } catch (e) {
    results[arg] = { error: e.constructor.name, tag: e.tag, message: e.message };
  }
  results[arg].stored = g.storedJson('value');
}
results.env = JSON.parse(g.command('ann', '/put env').text);
results.logs = g.logs();
results.calls = g.lastCalls;
console.log('RESULT ' + JSON.stringify(results));
