import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SqlDatabase, SqlExecutor, SqlResult } from '../../../apps/sample-app/src/domain';

type Reply = { id: number; rows: unknown[]; affectedRows: number; error?: { message: string; code?: string } };

/**
 * A real PGlite, run in a worker thread (see pglite-thread.js for why), behind the domain's SqlDatabase
 * interface. Like PGlite itself it has one connection: a transaction holds it until COMMIT or ROLLBACK, and
 * other statements wait.
 */
export class PgliteThreadDatabase implements SqlDatabase {
  readonly kind = 'pglite' as const;
  private readonly worker = new Worker(join(__dirname, 'pglite-thread.js'));
  private readonly pending = new Map<number, { resolve: (reply: Reply) => void }>();
  private nextId = 0;
  private holder: Promise<void> = Promise.resolve();

  constructor() {
    this.worker.on('message', (reply: Reply) => {
      this.pending.get(reply.id)?.resolve(reply);
      this.pending.delete(reply.id);
    });
  }

  query<R = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<SqlResult<R>> {
    return this.exclusive(() => this.send<R>(sql, params));
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      await this.send('BEGIN');
      try {
        const value = await work({ query: <R>(sql: string, params: unknown[] = []) => this.send<R>(sql, params) });
        await this.send('COMMIT');
        return value;
      } catch (error) {
        await this.send('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    await this.send('__close__').catch(() => undefined);
    await this.worker.terminate();
  }

  private async exclusive<T>(action: () => Promise<T>): Promise<T> {
    const previous = this.holder;
    let release!: () => void;
    this.holder = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      return await action();
    } finally {
      release();
    }
  }

  private async send<R>(sql: string, params: unknown[] = []): Promise<SqlResult<R>> {
    const id = (this.nextId += 1);
    const reply = await new Promise<Reply>((resolve) => {
      this.pending.set(id, { resolve });
      this.worker.postMessage({ id, sql, params });
    });
    if (reply.error) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
    return { rows: reply.rows as R[], rowCount: reply.affectedRows || reply.rows.length };
  }
}
