import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { migrate } from './notification.migrations';
import { PgliteDatabase } from './pglite.database';
import { PostgresDatabase } from './postgres.database';
import { SqlDatabase, SqlExecutor, SqlResult } from './sql-database';

export const DATABASE_OPTIONS = Symbol('sample-app:database-options');

/** Where the notification domain keeps its data. */
export interface DatabaseOptions {
  /** PostgreSQL connection string; unset → embedded PGlite. */
  url?: string;
  /** Schema for every table (created when missing). @default the server's search_path (normally `public`) */
  schema?: string;
  /** PGlite data directory when `url` is unset. @default in memory */
  pgliteDataDir?: string;
  /** An already open database to use as is (tests share one per file); not closed on shutdown. */
  database?: SqlDatabase;
}

/**
 * The domain's database: opened and migrated at start-up (a database it cannot reach stops the app with one
 * line), closed at shutdown. Every transaction of the domain goes through `transaction()`.
 */
@Injectable()
export class NotificationDatabase implements SqlDatabase, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('NotificationDatabase');
  private db?: SqlDatabase;

  constructor(@Inject(DATABASE_OPTIONS) private readonly options: DatabaseOptions) {}

  get kind(): SqlDatabase['kind'] {
    return this.open().kind;
  }

  async onModuleInit(): Promise<void> {
    const { url, schema } = this.options;
    if (this.options.database) {
      this.db = this.options.database;
    } else if (url) {
      try {
        this.db = await PostgresDatabase.connect(url, schema);
      } catch (error) {
        throw new Error(
          `Sample app cannot reach PostgreSQL at ${redact(url)}: ${describe(error)}. ` +
            'Fix: start PostgreSQL there, correct DATABASE_URL, or unset DATABASE_URL to use the embedded PGlite.',
        );
      }
    } else {
      this.db = await PgliteDatabase.open({ dataDir: this.options.pgliteDataDir, schema });
    }
    const applied = await migrate(this.db, schema);
    this.logger.log(
      `${this.options.database ? `given ${this.db.kind} database` : url ? `PostgreSQL ${redact(url)}` : 'embedded PGlite'}${schema ? ` (schema ${schema})` : ''}: ` +
        (applied.length ? `applied migration(s) ${applied.join(', ')}` : 'schema up to date'),
    );
  }

  async onApplicationShutdown(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    // NOTE: a database given in the options belongs to the caller.
    if (!this.options.database) await db?.close();
  }

  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<SqlResult<R>> {
    return this.open().query<R>(sql, params);
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.open().transaction(work);
  }

  close(): Promise<void> {
    return this.onApplicationShutdown();
  }

  private open(): SqlDatabase {
    if (!this.db) throw new Error('NotificationDatabase is not open (the app has not started, or has shut down).');
    return this.db;
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

function describe(error: unknown): string {
  const e = error as { message?: string; code?: string; errors?: Array<{ message?: string }> };
  // NOTE: a refused connection to "localhost" is an AggregateError (IPv4 and IPv6) with an empty message.
  const message = e?.message || e?.errors?.map((inner) => inner.message).join('; ') || e?.code || String(error);
  return message.replace(/\.$/, '');
}
