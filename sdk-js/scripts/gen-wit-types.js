#!/usr/bin/env node
// Regenerates types/wit/: TypeScript declarations of every qun:app@0.2.0
// interface, as the component model's JavaScript bindings see them (jco's
// naming: camelCase functions and fields, `{ tag, val }` variants, bigint for
// 64-bit integers, Uint8Array for list<u8>).
//
// `jco types` cannot read a WIT folder here (its WASI shim has no file
// system), so this builds a throwaway component against the whole
// `group-app` world with componentize-js and lets jco transpile it, which
// writes the same declarations. Run: node scripts/gen-wit-types.js
import { mkdtemp, writeFile, mkdir, rm, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { witDir } from '../bin/build.js';

const SDK = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = await mkdtemp(join(tmpdir(), 'qun-wit-types-'));
try {
  const source = join(dir, 'app.js');
  await writeFile(source, `export const handler = { describe() {}, onCommand() {}, onAction() {}, onSubmit() {}, onEvent() {} };\n`);
  const { componentize } = await import('@bytecodealliance/componentize-js');
  const { component } = await componentize({ sourcePath: source, witPath: witDir(), worldName: 'group-app', disableFeatures: ['http', 'fetch-event'] });
  const { transpile } = await import('@bytecodealliance/jco');
  const { files } = await transpile(component, { name: 'group-app', instantiation: 'async', quiet: true });
  const out = join(SDK, 'types', 'wit');
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  for (const [name, data] of Object.entries(files)) {
    const m = /^interfaces\/(qun-app-[a-z-]+\.d\.ts)$/.exec(name);
    if (m) await writeFile(join(out, m[1]), data);
  }
  console.log(`wrote ${(await readdir(out)).length} files to types/wit/`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
