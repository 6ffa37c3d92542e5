/** A value JSON would carry, but not unchanged (a Date arrives as a string, a Map as `{}`, …). */
export interface PayloadChange {
  /** Where in the payload, e.g. `data.items[2].at`. */
  path: string;
  /** What it is, e.g. `a Date`. */
  what: string;
  /** What the job would receive instead, e.g. `an ISO string`. */
  arrivesAs: string;
}

/**
 * Why `data` cannot travel as a job payload (`problem`), the first value JSON would change on the way (`change`),
 * or neither; `bytes` is its serialised size.
 */
export function payloadProblem(
  data: unknown,
  maxBytes: number,
): { problem?: string; change?: PayloadChange; bytes: number } {
  if (data === undefined) return { bytes: 0 };
  let json: string;
  let change: PayloadChange | undefined;
  // NOTE: a replacer, not a walk of our own: JSON.stringify visits every value once anyway, and the path of a bad value
  // is searched for only when there is one (`this` is the value's holder, `this[key]` the value before its toJSON).
  const replacer = function (this: unknown, key: string, value: unknown): unknown {
    const original = (this as Record<string, unknown>)[key];
    const problem = nonJson(value);
    if (problem) throw new NonJsonValue(`${pathOf(data, this, key)} is ${problem}`);
    if (!change) {
      const changed = changedByJson(original, value, Array.isArray(this));
      if (changed) change = { path: pathOf(data, this, key), ...changed };
    }
    return value;
  };
  try {
    json = JSON.stringify(data, replacer);
  } catch (error) {
    return { problem: `it is not JSON-serialisable (${(error as Error).message})`, bytes: 0 };
  }
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > maxBytes) return { problem: `it is ${bytes} bytes, over the limit of ${maxBytes} bytes`, bytes };
  return { change, bytes };
}

class NonJsonValue extends Error {}

/** What JSON cannot carry at all (it would drop the key or throw). */
function nonJson(value: unknown): string | undefined {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  if (typeof value === 'bigint') return 'a BigInt';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return undefined;
}

/** What JSON carries, but changed; `original` is the value before its toJSON, `value` after. */
function changedByJson(original: unknown, value: unknown, inArray: boolean): Omit<PayloadChange, 'path'> | undefined {
  if (value === undefined) return inArray ? { what: 'undefined in an array', arrivesAs: 'null' } : undefined;
  if (typeof original !== 'object' || original === null || Array.isArray(original)) return undefined;
  const prototype = Object.getPrototypeOf(original);
  if (prototype === Object.prototype || prototype === null) return undefined;
  if (original instanceof Date) return { what: 'a Date', arrivesAs: 'an ISO string' };
  if (original instanceof Map) return { what: 'a Map', arrivesAs: '{}' };
  if (original instanceof Set) return { what: 'a Set', arrivesAs: '{}' };
  if (hasMethods(prototype)) {
    const name = (original as { constructor?: { name?: string } }).constructor?.name || 'an anonymous class';
    return { what: `an instance of ${name}`, arrivesAs: 'a plain object without its methods or prototype' };
  }
  return undefined;
}

function hasMethods(prototype: object | null): boolean {
  for (let p = prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (name !== 'constructor' && typeof Object.getOwnPropertyDescriptor(p, name)?.value === 'function') return true;
    }
  }
  return false;
}

/** `data.a.b[2]`: the path of `holder[key]` inside `root` (a breadth-first search; only run for a bad value). */
function pathOf(root: unknown, holder: unknown, key: string): string {
  const seen = new Set<unknown>();
  const queue: [unknown, string][] = [[root, 'data']];
  const step = (base: string, container: unknown, k: string) =>
    Array.isArray(container)
      ? `${base}[${k}]`
      : /^[A-Za-z_$][\w$]*$/.test(k)
        ? `${base}.${k}`
        : `${base}[${JSON.stringify(k)}]`;
  if (typeof holder === 'object' && holder !== null && key === '' && (holder as Record<string, unknown>)[''] === root)
    return 'data';
  while (queue.length) {
    const [value, path] = queue.shift()!;
    if (value === holder) return step(path, holder, key);
    if (typeof value !== 'object' || value === null || seen.has(value)) continue;
    seen.add(value);
    for (const k of Object.keys(value)) queue.push([(value as Record<string, unknown>)[k], step(path, value, k)]);
  }
  return key === '' ? 'data' : `"${key}"`;
}
