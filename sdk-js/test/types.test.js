// The hand-written declarations (types/*.d.ts, over the generated types/wit/)
// type-check a TypeScript app that uses every module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const sdk = fileURLToPath(new URL('..', import.meta.url));

test('the TypeScript declarations type-check an app using every module', () => {
  const tsc = join(sdk, 'node_modules', '.bin', 'tsc');
  const run = spawnSync(tsc, ['-p', join(sdk, 'test', 'types')], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stdout + run.stderr);
});
