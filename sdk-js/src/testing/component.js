// Runs a built component (.wasm) under Node against the in-memory host, so
// the same TestGroup tests can drive the real component: jco transpiles it,
// `qun:app/*` imports go to the harness, WASI to jco's preview2-shim.
// Needs the npm packages @bytecodealliance/jco and @bytecodealliance/preview2-shim.
import { readFile, writeFile, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { pathToFileURL } from 'node:url';

const QUN = ['storage', 'log', 'messaging', 'membership', 'scheduler', 'payments', 'files', 'types', 'blocks'];

function kebab(s) {
  return s.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

/** The interfaces a component imports (e.g. `qun:app/storage@0.2.0`, `wasi:io/poll@0.2.12`). */
export async function componentImports(wasmBytes) {
  const { componentWit } = await import('@bytecodealliance/jco');
  const wit = await componentWit(wasmBytes);
  return [...wit.matchAll(/^\s*import ([a-z][\w-]*:[\w-]+\/[\w-]+(?:@[\w.-]+)?);/gm)].map((m) => m[1]);
}

/**
 * Transpiles `wasmPath` and returns `instantiate()`, which makes a fresh
 * instance (its `handler` is what a TestGroup takes), and `handler()`, a
 * handler that runs every call in a fresh instance, as the host does (so
 * state kept in module variables does not survive between calls).
 */
export async function loadComponent(wasmPath, { outDir } = {}) {
  const { transpile } = await import('@bytecodealliance/jco');
  const bytes = await readFile(wasmPath);
  const dir = outDir ?? (await mkdtemp(join(tmpdir(), 'qun-component-')));
  const { files } = await transpile(bytes, { name: 'app', instantiation: 'sync', quiet: true, noTypescript: true });
  for (const [name, data] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), data);
  }
  const mod = await import(pathToFileURL(join(dir, 'app.js')).href);
  const shim = await import('@bytecodealliance/preview2-shim');
  const imports = {};
  for (const pkg of ['cli', 'clocks', 'filesystem', 'io', 'random', 'sockets']) {
    for (const [iface, impl] of Object.entries(shim[pkg] ?? {})) imports[`wasi:${pkg}/${kebab(iface)}`] = impl;
  }
  for (const q of QUN) imports[`qun:app/${q}`] = await import(new URL(`./bindings/${q}.js`, import.meta.url).href);
  const cores = new Map();
  for (const name of Object.keys(files)) {
    if (name.endsWith('.wasm')) cores.set(name, await WebAssembly.compile(await readFile(join(dir, name))));
  }
  const getCore = (name) => cores.get(name);
  const instantiate = () => mod.instantiate(getCore, imports);
  return {
    dir,
    async instantiate() {
      return instantiate();
    },
    handler() {
      const fresh = (name) => (...args) => instantiate().handler[name](...args);
      return { describe: fresh('describe'), onCommand: fresh('onCommand'), onAction: fresh('onAction'), onSubmit: fresh('onSubmit'), onEvent: fresh('onEvent') };
    },
  };
}
