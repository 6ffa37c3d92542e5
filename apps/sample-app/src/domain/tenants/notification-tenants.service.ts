import { Injectable } from '@nestjs/common';
import { NotificationDatabase } from '../database/notification.database';
import { SqlExecutor } from '../database/sql-database';

/** The domain's tenants: who a per-tenant job runs for. */
@Injectable()
export class NotificationTenants {
  constructor(private readonly db: NotificationDatabase) {}

  /** Ids of the active tenants, in id order. */
  async listActiveIds(): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>('SELECT id FROM tenants WHERE active ORDER BY id');
    return rows.map((row) => row.id);
  }

  /** Adds the tenants that do not exist yet (name = id), active unless said otherwise. */
  static async ensure(tx: SqlExecutor, ids: string[], active = true): Promise<void> {
    for (const id of ids) {
      await tx.query('INSERT INTO tenants (id, name, active) VALUES ($1, $1, $2) ON CONFLICT (id) DO NOTHING', [
        id,
        active,
      ]);
    }
  }
}
