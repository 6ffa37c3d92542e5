import { readFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';

/**
 * Ports for the servers the tests start (redis-server, Sentinel, cluster buses, HTTP apps).
 *
 * Never from the kernel's ephemeral range (`/proc/sys/net/ipv4/ip_local_port_range`): there, any outgoing
 * connection of the suite's own clients can take a port between the moment it is chosen and the moment the server
 * binds it. Below that range, only a listener can take a port, so each process reserves a block of its own: it
 * binds the block's first port and holds it open for its lifetime. The kernel arbitrates that bind across every
 * process on the machine (the Jest workers of every checkout), and frees it when the process dies, so no lock file
 * goes stale. Inside its block a process still binds each port once before handing it out (a server outside this
 * scheme may listen there) and never hands out a port twice until it is released.
 */

/** Ports per block; the first one is the block's hold. */
export const PORT_BLOCK_SIZE = 64;
/** The lowest port used: above the registered services most machines run (PostgreSQL, Redis, 8080, 9200, …). */
const LOWEST_PORT = 15_000;
const HIGHEST_PORT = 65_535;

interface Block {
  start: number;
  hold: Server;
}

const blocks: Block[] = [];
const handedOut = new Set<number>();

/** The kernel's ephemeral range; the Linux default when the file cannot be read (macOS uses 49152–65535). */
export function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low > 0 && high >= low) return [low, high];
  } catch {
    // NOTE: not Linux: 32768 covers both the Linux default and the IANA range that macOS and Windows use.
  }
  return [32_768, HIGHEST_PORT];
}

/** The ports outside the ephemeral range that blocks are cut from: the larger side of it. */
export function reservablePorts(): [number, number] {
  const [low, high] = ephemeralRange();
  const below: [number, number] = [LOWEST_PORT, low - 1];
  const above: [number, number] = [high + 1, HIGHEST_PORT];
  const size = ([from, to]: [number, number]) => to - from + 1;
  const side = size(below) >= size(above) ? below : above;
  if (size(side) < PORT_BLOCK_SIZE * 4)
    throw new Error(
      `the ephemeral port range ${low}-${high} leaves no room for test servers outside it. ` +
        'Fix: narrow net.ipv4.ip_local_port_range (sysctl), e.g. to 32768 60999.',
    );
  return side;
}

/**
 * A port no other process of this scheme will use and nothing listens on now, reserved for this process until
 * `releasePort`. Never in the ephemeral range.
 */
export async function freePort(): Promise<number> {
  for (const block of blocks) {
    const port = await firstFreeIn(block);
    if (port) return port;
  }
  for (;;) {
    const block = await reserveBlock();
    const port = await firstFreeIn(block);
    if (port) return port;
  }
}

/** Gives a port back to this process's block once its server is gone for good. */
export function releasePort(port: number): void {
  handedOut.delete(port);
}

/** Whether `port` can be bound on 127.0.0.1 right now. */
export function canBind(port: number): Promise<boolean> {
  return listenOn(port).then(
    (server) => new Promise<boolean>((resolve) => server.close(() => resolve(true))),
    () => false,
  );
}

async function firstFreeIn(block: Block): Promise<number | undefined> {
  for (let port = block.start + 1; port < block.start + PORT_BLOCK_SIZE; port++) {
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await canBind(port)) return port;
    // NOTE: something outside this scheme listens there; the port stays marked so it is not tried again.
  }
  return undefined;
}

/** Binds the first free block's hold, starting at a block picked by pid so that processes rarely collide. */
async function reserveBlock(): Promise<Block> {
  const [from, to] = reservablePorts();
  const count = Math.floor((to - from + 1) / PORT_BLOCK_SIZE);
  const first = (process.pid * 7919 + blocks.length) % count;
  for (let i = 0; i < count; i++) {
    const start = from + ((first + i) % count) * PORT_BLOCK_SIZE;
    if (blocks.some((b) => b.start === start)) continue;
    const hold = await listenOn(start).catch(() => undefined);
    if (!hold) continue;
    // NOTE: unref: holding the block must not keep a finished process (a Jest worker) alive.
    hold.unref();
    const block = { start, hold };
    blocks.push(block);
    return block;
  }
  throw new Error(`every block of ${PORT_BLOCK_SIZE} ports in ${from}-${to} is held by another process`);
}

function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(server));
  });
}

/** Whether a server's start-up output (or error) says its port was taken. */
export function isAddressInUse(text: string): boolean {
  return /address already in use|EADDRINUSE/i.test(text);
}
