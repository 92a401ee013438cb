// The in-memory host behind `qun:app/*` in tests: the capability functions
// with the host's semantics, working on the state of the invocation that is
// running (see TestGroup in ./index.js). Errors are thrown as the component
// model's bindings throw them: an Error whose `payload` is the WIT variant.

const enc = new TextEncoder();

/** A capability error as bindings throw it. */
export function hostError(tag, val) {
  const e = new Error(`${tag}: ${val}`);
  e.name = 'ComponentError';
  e.payload = { tag, val };
  return e;
}

let active = null;

/** Runs `fn` with `inv` as the invocation capability calls go to. */
export function withInvocation(inv, fn) {
  const prev = active;
  active = inv;
  try {
    return fn();
  } finally {
    active = prev;
  }
}

function current(cap) {
  if (!active) {
    throw new Error(`qun:app/${cap} was called outside an invocation: call the app through a TestGroup (command, click, event, run, ...)`);
  }
  if (cap !== 'log' && active.group.denied.has(cap)) throw hostError('denied', `capability ${cap} is not granted`);
  return active;
}

const CAPABILITY_IMPLS = {};

/** The implementation of one interface (the functions bindings re-export). */
export function capability(name) {
  const impl = CAPABILITY_IMPLS[name];
  const out = {};
  for (const [fname, fn] of Object.entries(impl)) {
    out[fname] = (...args) => {
      const inv = current(name);
      inv.calls.push([name, fname]);
      return fn(inv, ...args);
    };
  }
  return out;
}

function checkKey(inv, key, what = 'key') {
  const n = enc.encode(key).length;
  if (n === 0) throw hostError('invalid', `${what} is empty`);
  if (n > inv.group.limits.keyBytes) throw hostError('invalid', `${what} is ${n} bytes, more than ${inv.group.limits.keyBytes}`);
}

function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function storageUse(storage) {
  let bytes = 0;
  for (const [k, v] of storage) bytes += enc.encode(k).length + v.length;
  return bytes;
}

function putValue(inv, key, value) {
  const lim = inv.group.limits;
  checkKey(inv, key);
  if (!(value instanceof Uint8Array)) throw hostError('invalid', 'value is not bytes');
  if (value.length > lim.valueBytes) throw hostError('invalid', `value is ${value.length} bytes, more than ${lim.valueBytes}`);
  const st = inv.tx.storage;
  if (!st.has(key) && st.size >= lim.storageKeys) throw hostError('quota-exceeded', `storage keys: ${lim.storageKeys}`);
  const old = st.get(key);
  st.set(key, new Uint8Array(value));
  if (storageUse(st) > lim.storageBytes) {
    if (old) st.set(key, old);
    else st.delete(key);
    throw hostError('quota-exceeded', `storage bytes: ${lim.storageBytes}`);
  }
}

CAPABILITY_IMPLS.storage = {
  get(inv, key) {
    checkKey(inv, key);
    const v = inv.tx.storage.get(key);
    return v === undefined ? undefined : new Uint8Array(v);
  },
  set(inv, key, value) {
    putValue(inv, key, value);
  },
  delete(inv, key) {
    checkKey(inv, key);
    return inv.tx.storage.delete(key);
  },
  list(inv, prefix, cursor, limit) {
    if (limit > 1000) throw hostError('invalid', `limit ${limit} is more than 1000`);
    const keys = [...inv.tx.storage.keys()].filter((k) => k.startsWith(prefix) && (cursor === undefined || cursor === null || k > cursor)).sort();
    const page = keys.slice(0, Math.max(0, limit));
    const more = keys.length > page.length && page.length > 0;
    return {
      entries: page.map((key) => ({ key, value: new Uint8Array(inv.tx.storage.get(key)) })),
      nextCursor: more ? page[page.length - 1] : undefined,
    };
  },
  compareAndSwap(inv, key, expected, next) {
    checkKey(inv, key);
    const cur = inv.tx.storage.get(key);
    const same = expected === undefined || expected === null ? cur === undefined : cur !== undefined && bytesEqual(cur, expected);
    if (!same) return false;
    if (next === undefined || next === null) inv.tx.storage.delete(key);
    else putValue(inv, key, next);
    return true;
  },
};

CAPABILITY_IMPLS.log = {
  write(inv, level, message, fields) {
    inv.group._logs.push({ level, message, fields: fields.map(([k, v]) => [k, v]) });
  },
};

function checkMessage(inv, message) {
  inv.group._checkMessage(message);
}

function ownMessage(inv, id) {
  const m = inv.tx.messages.find((x) => x.id === id && x.author === 'app' && !x.deleted);
  if (!m) throw hostError('not-found', `no message ${id} of this installation`);
  return m;
}

function countRate(inv) {
  const lim = inv.group.limits;
  const since = inv.group.now - 60_000;
  const recent = inv.tx.messages.filter((m) => m.author === 'app' && m.at > since).length;
  if (recent >= lim.messagesPerMinute) throw hostError('quota-exceeded', `messages per minute: ${lim.messagesPerMinute}`);
}

CAPABILITY_IMPLS.messaging = {
  post(inv, message) {
    checkMessage(inv, message);
    countRate(inv);
    return inv.group._addMessage(inv.tx, message, undefined);
  },
  update(inv, id, message) {
    checkMessage(inv, message);
    const m = ownMessage(inv, id);
    m.message = structuredClone(message);
    m.updates += 1;
  },
  delete(inv, id) {
    const m = ownMessage(inv, id);
    m.deleted = true;
  },
  postPrivate(inv, to, message) {
    checkMessage(inv, message);
    if (!inv.group._members.has(to)) throw hostError('not-found', `${to} is not a member of this group`);
    countRate(inv);
    return inv.group._addMessage(inv.tx, message, to);
  },
  sendDirect(inv, to, message) {
    checkMessage(inv, message);
    if (!inv.group._members.has(to)) throw hostError('not-found', `${to} is not a member of this group`);
    const lim = inv.group.limits;
    const since = inv.group.now - 60_000;
    const recent = inv.tx.dms.filter((d) => d.at > since);
    if (recent.length >= lim.dmsPerMinute) throw hostError('quota-exceeded', `direct messages per minute: ${lim.dmsPerMinute}`);
    if (recent.filter((d) => d.to === to).length >= lim.dmsPerRecipient) throw hostError('quota-exceeded', `direct messages to one member per minute: ${lim.dmsPerRecipient}`);
    inv.tx.dms.push({ to, message: structuredClone(message), at: inv.group.now });
  },
};

CAPABILITY_IMPLS.membership = {
  currentGroup(inv) {
    const g = inv.group;
    return { id: g.groupId, name: g.name, owner: g._owner(), memberCount: g._members.size, timeZone: g.timeZone, locale: g.locale };
  },
  getMember(inv, id) {
    const m = inv.group._members.get(id);
    if (!m) throw hostError('not-found', `${id} is not a member of this group`);
    return structuredClone(m);
  },
  listMembers(inv, cursor, limit) {
    if (limit > 100) throw hostError('invalid', `limit ${limit} is more than 100`);
    const all = [...inv.group._members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).filter((m) => cursor === undefined || cursor === null || m.id > cursor);
    const page = all.slice(0, limit);
    return { members: structuredClone(page), nextCursor: all.length > page.length && page.length ? page[page.length - 1].id : undefined };
  },
};

function checkTimer(inv, key, payload) {
  checkKey(inv, key, 'timer key');
  const n = enc.encode(payload).length;
  if (n > inv.group.limits.timerPayloadBytes) throw hostError('invalid', `timer payload is ${n} bytes, more than ${inv.group.limits.timerPayloadBytes}`);
}

CAPABILITY_IMPLS.scheduler = {
  schedule(inv, key, at, payload) {
    checkTimer(inv, key, payload);
    inv.tx.timers.set(key, { key, at: Number(at), payload, rule: undefined });
  },
  scheduleRecurring(inv, key, rule, payload) {
    checkTimer(inv, key, payload);
    validateRule(rule);
    const at = nextOccurrence(rule, inv.group.now, inv.group.timeZone, inv.group.now);
    inv.tx.timers.set(key, { key, at, payload, rule: structuredClone(rule), from: inv.group.now });
    return BigInt(at);
  },
  cancel(inv, key) {
    return inv.tx.timers.delete(key);
  },
};

function validateRule(rule) {
  const tod = (t) => {
    if (!(t.hour >= 0 && t.hour <= 23 && t.minute >= 0 && t.minute <= 59)) throw hostError('invalid', `time of day ${t.hour}:${t.minute}`);
  };
  if (rule.tag === 'daily') tod(rule.val);
  else if (rule.tag === 'weekly') {
    if (rule.val[0].length === 0) throw hostError('invalid', 'a weekly rule needs at least one day');
    tod(rule.val[1]);
  } else if (rule.tag === 'every-minutes') {
    if (!(rule.val >= 5)) throw hostError('invalid', `every-minutes must be at least 5, not ${rule.val}`);
  } else throw hostError('invalid', `rule ${rule.tag}`);
}

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

function zoned(ts, tz) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' }).formatToParts(new Date(ts)).map((x) => [x.type, x.value]));
  return { year: +p.year, month: +p.month, day: +p.day, hour: +p.hour % 24, minute: +p.minute, second: +p.second };
}

/** The UTC moment of a wall-clock time in `tz` (a time that does not exist moves forward). */
export function fromZoned(year, month, day, hour, minute, tz) {
  const want = Date.UTC(year, month - 1, day, hour, minute);
  let guess = want;
  for (let i = 0; i < 3; i++) {
    const z = zoned(guess, tz);
    const seen = Date.UTC(z.year, z.month - 1, z.day, z.hour, z.minute);
    guess += want - seen;
  }
  const z = zoned(guess, tz);
  if (Date.UTC(z.year, z.month - 1, z.day, z.hour, z.minute) < want) guess += 3_600_000;
  return guess;
}

/** The first occurrence of `rule` after `after` (ms) on the clock of `tz`. */
export function nextOccurrence(rule, after, tz, from = after) {
  if (rule.tag === 'every-minutes') {
    const step = rule.val * 60_000;
    const n = Math.floor((after - from) / step) + 1;
    return from + n * step;
  }
  const [days, tod] = rule.tag === 'daily' ? [null, rule.val] : [rule.val[0], rule.val[1]];
  const z = zoned(after, tz);
  for (let i = 0; i <= 8; i++) {
    const d = new Date(Date.UTC(z.year, z.month - 1, z.day + i));
    const wd = WEEKDAYS[d.getUTCDay()];
    if (days && !days.includes(wd)) continue;
    const at = fromZoned(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), tod.hour, tod.minute, tz);
    if (at > after) return at;
  }
  throw new Error('no next occurrence');
}

CAPABILITY_IMPLS.payments = {
  request(inv, req) {
    if (!inv.group._members.has(req.payer)) throw hostError('not-found', `${req.payer} is not a member of this group`);
    if (req.amount <= 0n) throw hostError('invalid', 'amount must be positive');
    if (!/^[A-Z]{3}$/.test(req.currency)) throw hostError('invalid', `currency ${req.currency} is not ISO 4217`);
    const same = [...inv.tx.payments.values()].find((p) => p.key === req.idempotencyKey);
    if (same) {
      if (same.p.payer !== req.payer || same.p.amount !== req.amount || same.p.currency !== req.currency || same.p.memo !== req.memo) {
        throw hostError('conflict', `idempotency key ${req.idempotencyKey} was used with other parameters`);
      }
      return structuredClone(same.p);
    }
    const id = `pay-${inv.group._nextId('payment')}`;
    const p = { id, payer: req.payer, amount: req.amount, currency: req.currency, memo: req.memo, status: 'pending', refunded: 0n, createdAt: BigInt(inv.group.now) };
    inv.tx.payments.set(id, { key: req.idempotencyKey, p, refunds: new Map() });
    return structuredClone(p);
  },
  status(inv, id) {
    const e = inv.tx.payments.get(id);
    if (!e) throw hostError('not-found', `no payment ${id}`);
    return structuredClone(e.p);
  },
  refund(inv, id, amount, key) {
    const e = inv.tx.payments.get(id);
    if (!e) throw hostError('not-found', `no payment ${id}`);
    if (e.refunds.has(key)) {
      if (e.refunds.get(key) !== amount) throw hostError('conflict', `idempotency key ${key} was used with another amount`);
      return structuredClone(e.p);
    }
    if (e.p.status !== 'settled') throw hostError('invalid', `payment ${id} is ${e.p.status}, not settled`);
    if (amount <= 0n || e.p.refunded + amount > e.p.amount) throw hostError('invalid', `refund of ${amount} is more than is left (${e.p.amount - e.p.refunded})`);
    e.p.refunded += amount;
    e.refunds.set(key, amount);
    return structuredClone(e.p);
  },
};

function readableFile(inv, id) {
  const f = inv.tx.files.get(id);
  if (!f || f.deleted || !(f.owned || inv.given.has(id))) throw hostError('not-found', `no file ${id}`);
  return f;
}

CAPABILITY_IMPLS.files = {
  stat(inv, id) {
    return structuredClone(readableFile(inv, id).info);
  },
  read(inv, id, offset, length) {
    if (length > 1 << 20) throw hostError('invalid', `read of ${length} bytes, more than 1 MiB`);
    const f = readableFile(inv, id);
    const start = Number(offset);
    return f.bytes.slice(Math.min(start, f.bytes.length), Math.min(start + length, f.bytes.length));
  },
  create(inv, name) {
    if (!name || enc.encode(name).length > 255 || /[/\\\u0000-\u001f]/.test(name)) throw hostError('invalid', `file name ${JSON.stringify(name)}`);
    const id = inv.group._nextId('upload');
    inv.uploads.set(id, { name, chunks: [] });
    return id;
  },
  append(inv, upload, bytes) {
    const u = inv.uploads.get(upload);
    if (!u) throw hostError('not-found', `no upload ${upload}`);
    if (bytes.length > 1 << 20) throw hostError('invalid', `append of ${bytes.length} bytes, more than 1 MiB`);
    u.chunks.push(new Uint8Array(bytes));
  },
  finish(inv, upload) {
    const u = inv.uploads.get(upload);
    if (!u) throw hostError('not-found', `no upload ${upload}`);
    inv.uploads.delete(upload);
    const size = u.chunks.reduce((n, c) => n + c.length, 0);
    const bytes = new Uint8Array(size);
    let at = 0;
    for (const c of u.chunks) {
      bytes.set(c, at);
      at += c.length;
    }
    const g = inv.group;
    if (size > g.limits.fileBytes) throw hostError('invalid', `file is ${size} bytes, more than ${g.limits.fileBytes}`);
    const own = [...inv.tx.files.values()].filter((f) => f.owned && !f.deleted).reduce((n, f) => n + f.bytes.length, 0);
    if (own + size > g.limits.installationFileBytes) throw hostError('quota-exceeded', 'installation file quota');
    const f = g._makeFile(u.name, bytes, undefined);
    f.owned = true;
    inv.tx.files.set(f.info.id, f);
    return structuredClone(f.info);
  },
  delete(inv, id) {
    const f = inv.tx.files.get(id);
    if (!f || f.deleted || !f.owned) return false;
    if (f.info.uploadedBy === undefined) f.deleted = true;
    f.owned = false;
    return true;
  },
};

export const CAPABILITIES = Object.keys(CAPABILITY_IMPLS);
