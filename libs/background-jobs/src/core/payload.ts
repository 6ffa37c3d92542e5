/** Why `data` cannot travel as a job payload, or undefined when it can; `bytes` is its serialised size. */
export function payloadProblem(data: unknown, maxBytes: number): { problem?: string; bytes: number } {
  if (data === undefined) return { bytes: 0 };
  let json: string;
  try {
    json = JSON.stringify(data, (key, value: unknown) => {
      const where = key === '' ? 'the payload' : `"${key}"`;
      if (typeof value === 'function') throw new TypeError(`${where} is a function`);
      if (typeof value === 'symbol') throw new TypeError(`${where} is a symbol`);
      if (typeof value === 'bigint') throw new TypeError(`${where} is a BigInt`);
      if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`${where} is ${value}`);
      return value;
    });
  } catch (error) {
    return { problem: `it is not JSON-serialisable (${(error as Error).message})`, bytes: 0 };
  }
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > maxBytes) return { problem: `it is ${bytes} bytes, over the limit of ${maxBytes} bytes`, bytes };
  return { bytes };
}
