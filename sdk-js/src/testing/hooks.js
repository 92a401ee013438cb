// Module resolution hook (see register.js).
const KNOWN = new Set(['storage', 'log', 'messaging', 'membership', 'scheduler', 'payments', 'files', 'types', 'blocks']);

export async function resolve(specifier, context, nextResolve) {
  const m = /^qun:app\/([a-z-]+)(@0\.2\.0)?$/.exec(specifier);
  if (m) {
    if (!KNOWN.has(m[1])) throw new Error(`unknown interface ${specifier} (the contract qun:app@0.2.0 has ${[...KNOWN].join(', ')})`);
    return { url: new URL(`./bindings/${m[1]}.js`, import.meta.url).href, shortCircuit: true };
  }
  if (specifier.startsWith('qun:app/')) throw new Error(`${specifier}: this SDK is built against qun:app@0.2.0`);
  return nextResolve(specifier, context);
}
