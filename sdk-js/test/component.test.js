// The SDK's build, end to end: build a probe app that uses storage and log
// only with bin/build.js (componentize-js), read the imports of the
// component it made, and run it under Node against the harness.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from '../bin/build.js';
import { componentImports } from '../src/testing/component.js';

const here = fileURLToPath(new URL('.', import.meta.url));
let wasm;
let built;

before(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'qun-sdk-test-'));
  wasm = join(dir, 'probe.wasm');
  built = await build(join(here, 'fixtures', 'storage-log'), wasm, { quiet: true });
  console.log(`probe component: ${built.size} bytes, built in ${built.seconds.toFixed(1)} s`);
});

test('an app using only storage and log imports only those capabilities, and no wasi:http or sockets', async () => {
  assert.deepEqual(built.capabilities, ['storage', 'log']);
  const imports = await componentImports(await readFile(wasm));
  const qun = imports.filter((i) => i.startsWith('qun:app/')).sort();
  assert.deepEqual(qun, ['qun:app/blocks@0.2.0', 'qun:app/log@0.2.0', 'qun:app/storage@0.2.0', 'qun:app/types@0.2.0']);
  assert.deepEqual(imports.filter((i) => /^wasi:(http|sockets)\//.test(i)), []);
  assert.ok(imports.some((i) => i.startsWith('wasi:cli/stderr')), 'stderr is imported so console output reaches the app log');
});

test('the component: a thrown Error is internal with its message, Denied and Invalid keep their variant, writes roll back', () => {
  const run = spawnSync(process.execPath, [join(here, 'component-driver.js'), wasm], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(run.status, 0, run.stderr);
  const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, run.stdout + run.stderr);
  const r = JSON.parse(line.slice('RESULT '.length));
  assert.equal(r.describe.name, 'probe');
  assert.match(r.first.ok, /^stored first at \d+$/);
  assert.equal(r.first.stored, 'first');
  assert.deepEqual(r.throw, { error: 'Internal', tag: 'internal', message: 'plain error from the app', stored: 'first' });
  assert.deepEqual(r.denied, { error: 'Denied', tag: 'denied', message: 'only the owner may', stored: 'first' });
  assert.deepEqual(r.invalid, { error: 'Invalid', tag: 'invalid', message: 'say a number', stored: 'first' });
  assert.equal(r.type.tag, 'internal');
  assert.match(r.type.message, /null/);
  assert.equal(r.type.stored, 'first');
  assert.equal(r.logs.length, 5, 'log lines of failed invocations stay');
  // what the engine offers an app: clocks, randomness, TextEncoder; no fetch (http is disabled)
  console.log(`in the component: ${JSON.stringify(r.env)}`);
  assert.equal(r.env.now, 'number');
  assert.equal(r.env.random, 'number');
  assert.equal(r.env.textEncoder, 'function');
  assert.equal(r.env.structuredClone, 'function');
  // no Intl in the engine: the SDK's time zones come from bundled data
  assert.equal(r.env.date, '2026-01-02', 'ctx.date() in Asia/Shanghai inside the component');
  // console.log reaches stdout, and a thrown Error's stack reaches stderr (the app log on the host).
  assert.match(run.stdout, /stdout: throw/);
  assert.match(run.stderr, /command \/put failed: .*plain error from the app/);
});
