import { Pool, PoolClient, QueryResult } from 'pg';
import { quoteIdent, SqlDatabase, SqlExecutor, SqlResult } from './sql-database';

/** PostgreSQL through a `pg` pool; `schema` (when given) is every connection's search_path. */
export class PostgresDatabase implements SqlDatabase {
  readonly kind = 'postgres' as const;

  private constructor(private readonly pool: Pool) {}

  /** Opens the pool and proves the server answers; rejects with the driver's error otherwise. */
  static async connect(url: string, schema?: string): Promise<PostgresDatabase> {
    const pool = new Pool({
      connectionString: url,
      max: 5,
      connectionTimeoutMillis: 5_000,
      ...(schema ? { options: `-c search_path=${quoteIdent(schema)}` } : {}),
    });
    // NOTE: an idle client losing its server must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    try {
      await pool.query('SELECT 1');
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
    return new PostgresDatabase(pool);
  }

  async query<R = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<SqlResult<R>> {
    return toResult<R>(await this.pool.query(sql, params));
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const value = await work(executorOf(client));
      await client.query('COMMIT');
      return value;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function executorOf(client: PoolClient): SqlExecutor {
  return {
    async query<R>(sql: string, params: unknown[] = []): Promise<SqlResult<R>> {
      return toResult<R>(await client.query(sql, params));
    },
  };
}

function toResult<R>(result: QueryResult): SqlResult<R> {
  return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
}
