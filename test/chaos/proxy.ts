import { createServer, Server, Socket } from 'node:net';

/**
 * A TCP proxy between one app process and one Redis node, run by the harness: it forwards bytes both ways and,
 * on demand, delays every chunk (latency), holds every chunk until a moment (stall) or resets every connection
 * (drop). Chunks keep their order. Node's net module only: no root, no outside tool.
 */
export class FaultyProxy {
  latencyMs = 0;
  /** Bytes forwarded both ways: shows the process really reaches Redis through this proxy. */
  forwarded = 0;
  private stallUntil = 0;
  private readonly sockets = new Set<Socket>();
  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly targetPort: number,
  ) {}

  static async start(targetPort: number): Promise<FaultyProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    const proxy = new FaultyProxy(server, typeof address === 'object' && address ? address.port : 0, targetPort);
    server.on('connection', (client) => proxy.accept(client));
    return proxy;
  }

  /** Holds every byte, both ways, for `ms` (a frozen link: nothing is lost, everything arrives late). */
  stall(ms: number): void {
    this.stallUntil = Math.max(this.stallUntil, Date.now() + ms);
  }

  /** Resets every open connection (both sides see the link break). */
  drop(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  /** Connections open to the target now (the process's links to that server). */
  get open(): number {
    let count = 0;
    for (const socket of this.sockets) if (socket.remotePort === this.targetPort && !socket.destroyed) count++;
    return count;
  }

  heal(): void {
    this.latencyMs = 0;
    this.stallUntil = 0;
  }

  async close(): Promise<void> {
    this.drop();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const upstream = new Socket();
    this.sockets.add(client);
    this.sockets.add(upstream);
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    upstream.connect(this.targetPort, '127.0.0.1');
    this.forward(client, upstream);
    this.forward(upstream, client);
  }

  private forward(from: Socket, to: Socket): void {
    const queue: Array<{ at: number; chunk: Buffer }> = [];
    let timer: NodeJS.Timeout | undefined;
    const pump = () => {
      timer = undefined;
      while (queue.length > 0) {
        const due = Math.max(queue[0].at, this.stallUntil);
        const wait = due - Date.now();
        if (wait > 0) {
          timer = setTimeout(pump, wait);
          return;
        }
        const { chunk } = queue.shift() as { chunk: Buffer };
        this.forwarded += chunk.length;
        if (!to.destroyed) to.write(chunk);
      }
    };
    from.on('data', (chunk: Buffer) => {
      queue.push({ at: Date.now() + this.latencyMs, chunk });
      if (!timer) pump();
    });
  }
}
