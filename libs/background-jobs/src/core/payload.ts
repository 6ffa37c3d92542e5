/** Why `data` cannot travel as a job payload, or undefined when it can; `bytes` is its serialised size. */
export function payloadProblem(data: unknown, maxBytes: number): { problem?: string; bytes: number } {
  if (data === undefined) return { bytes: 0 };
  let json: string;
  try {
    json = JSON.stringify(data, rejectNonJson);
  } catch (error) {
    return { problem: `it is not JSON-serialisable (${(error as Error).message})`, bytes: 0 };
  }
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > maxBytes) return { problem: `it is ${bytes} bytes, over the limit of ${maxBytes} bytes`, bytes };
  return { bytes };
}

/**
 * JSON.stringify replacer: throws on values JSON would drop or mangle silently. A module function that builds its
 * message only for a bad value: it runs for every key of every enqueued payload.
 */
function rejectNonJson(key: string, value: unknown): unknown {
  let problem: string;
  if (typeof value === 'function') problem = 'a function';
  else if (typeof value === 'symbol') problem = 'a symbol';
  else if (typeof value === 'bigint') problem = 'a BigInt';
  else if (typeof value === 'number' && !Number.isFinite(value)) problem = String(value);
  else return value;
  throw new TypeError(`${key === '' ? 'the payload' : `"${key}"`} is ${problem}`);
}
