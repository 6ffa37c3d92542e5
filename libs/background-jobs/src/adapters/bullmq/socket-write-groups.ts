import { Cluster } from 'ioredis';
import { Writable } from 'node:stream';
import { RedisClient } from './redis-connection';

/** Commands gathered into each socket write once an event-loop turn writes more than one (see `groupWrites`). */
export const WRITES_PER_GROUP = 16;

const grouped = new WeakSet<Writable>();

/**
 * Gathers the commands a client writes in one event-loop turn (a callback and the promise continuations it sets off)
 * into one socket write (`writev`) per {@link WRITES_PER_GROUP}, instead of a system call each. The first write of a
 * turn goes out as it is called (a lone command waits for nothing); from the second on the socket is corked, flushed
 * as each group fills and when the turn's continuations are done (`process.nextTick`, as Node's stream docs advise
 * for `uncork`), so Redis starts on the first group while the process builds the next. Flushing only at
 * `setImmediate` held the last group behind every other I/O callback of the loop's poll phase: fair enqueues and
 * fair drains ran slower than not grouping at all (bench/README.md). Each command keeps its own reply, answered as it
 * comes. Every socket the client connects (ioredis makes a new one on reconnect). A cluster client, with a socket per
 * node, is left as it is.
 */
export function groupWrites<T extends object>(client: T): T {
  // NOTE: a Worker's connection comes wrapped in BullMQ's client proxy, which hands `stream` and `on` to the ioredis
  // instance it wraps.
  const redis = client as unknown as RedisClient;
  if (redis instanceof Cluster) return client;
  const install = () => {
    const stream = redis.stream as Writable | undefined;
    if (stream && typeof stream.cork === 'function' && !grouped.has(stream)) group(stream);
  };
  redis.on('connect', install);
  install();
  return client;
}

function group(stream: Writable): void {
  grouped.add(stream);
  const write = stream.write;
  let writes = 0;
  const turnEnded = () => {
    const corked = writes > 1;
    writes = 0;
    if (corked) stream.uncork();
  };
  stream.write = ((...args: Parameters<Writable['write']>) => {
    writes += 1;
    if (writes === 1) {
      process.nextTick(turnEnded);
      return write.apply(stream, args);
    }
    if (writes === 2) stream.cork();
    const accepted = write.apply(stream, args);
    if ((writes - 1) % WRITES_PER_GROUP === 0) {
      stream.uncork();
      stream.cork();
    }
    return accepted;
  }) as Writable['write'];
}
