/** The result of one statement, the same shape for PostgreSQL (`pg`) and PGlite. */
export interface SqlResult<R> {
  rows: R[];
  rowCount: number;
}

/** Runs statements; inside `transaction`, on the transaction's connection. */
export interface SqlExecutor {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<SqlResult<R>>;
}

/** One database the notification domain owns: PostgreSQL through a `pg` pool, or an embedded PGlite. */
export interface SqlDatabase extends SqlExecutor {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `work` in one transaction: COMMIT when it resolves, ROLLBACK when it throws (and rethrows). */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Quotes an identifier (schema names come from configuration). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
