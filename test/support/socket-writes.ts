import { Socket } from 'node:net';

type InternalSocket = Socket & { _write: (...args: unknown[]) => void; _writev: (...args: unknown[]) => void };

/**
 * Writes this process hands to its sockets while `fn` runs: what reaches the kernel (`_write` for one chunk, `_writev`
 * for the chunks a corked socket gathered), not `write` calls (a corked socket buffers those).
 */
export async function socketWritesDuring<T>(fn: () => Promise<T>): Promise<{ result: T; writes: number }> {
  const proto = Socket.prototype as InternalSocket;
  const [write, writev] = [proto._write, proto._writev];
  let writes = 0;
  proto._write = function (this: Socket, ...args: unknown[]) {
    writes += 1;
    return write.apply(this, args);
  };
  proto._writev = function (this: Socket, ...args: unknown[]) {
    writes += 1;
    return writev.apply(this, args);
  };
  try {
    return { result: await fn(), writes };
  } finally {
    [proto._write, proto._writev] = [write, writev];
  }
}
