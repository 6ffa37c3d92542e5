import { PGlite, Transaction } from '@electric-sql/pglite';
import { quoteIdent, SqlDatabase, SqlExecutor, SqlResult } from './sql-database';

/**
 * Embedded PostgreSQL (PGlite, in this process): the default when no DATABASE_URL is set. In memory unless a
 * data directory is given.
 */
export class PgliteDatabase implements SqlDatabase {
  readonly kind = 'pglite' as const;

  private constructor(private readonly db: PGlite) {}

  static async open(options: { dataDir?: string; schema?: string } = {}): Promise<PgliteDatabase> {
    const db = new PGlite(options.dataDir);
    await db.waitReady;
    if (options.schema) {
      await db.exec(
        `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(options.schema)}; SET search_path TO ${quoteIdent(options.schema)}`,
      );
    }
    return new PgliteDatabase(db);
  }

  async query<R = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<SqlResult<R>> {
    return toResult<R>(await this.db.query<R>(sql, params));
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.db.transaction((tx: Transaction) =>
      work({ query: async <R>(sql: string, params: unknown[] = []) => toResult<R>(await tx.query<R>(sql, params)) }),
    );
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }
}

function toResult<R>(result: { rows: R[]; affectedRows?: number }): SqlResult<R> {
  return { rows: result.rows, rowCount: result.affectedRows || result.rows.length };
}
