import { join } from 'node:path';
import { TestingModule, Test } from '@nestjs/testing';
import {
  NotificationDatabase,
  NotificationDomainModule,
  NotificationReport,
  NotificationSeeder,
  ProcessDueRetriesResult,
} from '../../apps/sample-app/src/domain';
import { AppProcess, removeAppBuild } from '../support/app-process';
import { waitFor } from '../support/redis';
import { postgresTarget } from './support/sample-app';

const CHILD = join(__dirname, 'support', 'retry-processor.child.ts');
const ENTRIES = 50;

interface ChildRun {
  pid: number;
  state: string;
  result?: ProcessDueRetriesResult;
  failure?: { kind: string; message: string };
}

// NOTE: PostgreSQL only: PGlite is embedded in one process, so there is nothing for three processes to share.
describe('three sample-app processes running the retry processor against one PostgreSQL', () => {
  const postgres = postgresTarget();
  let domain: TestingModule | undefined;
  const children: AppProcess[] = [];

  afterAll(() => removeAppBuild());

  afterEach(async () => {
    children.splice(0);
    await AppProcess.killAll();
    await domain?.close();
    domain = undefined;
    await postgres.cleanup();
  });

  it(`dispatches each of ${ENTRIES} due entries exactly once`, async () => {
    const database = await postgres.fresh();
    domain = await Test.createTestingModule({
      imports: [NotificationDomainModule.forRoot({ database })],
    }).compile();
    domain.useLogger(false);
    await domain.init();
    await domain.get(NotificationSeeder).seedDueRetries(ENTRIES, ['tenant-a', 'tenant-b', 'tenant-c']);

    for (let i = 0; i < 3; i += 1) {
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        DATABASE_URL: database.url,
        DATABASE_SCHEMA: database.schema,
        JOBS_MODE: 'pipeline',
      };
      delete env.REDIS_URL;
      children.push(AppProcess.spawn(CHILD, { env, stdin: true, name: `retry processor ${i}` }));
    }
    const outputs = () => children.map((child) => child.output);
    await waitFor(
      'all three processes to boot',
      () => {
        children.forEach((child, i) => {
          if (!child.running) throw new Error(`process ${i} exited: ${child.output}`);
        });
        return outputs().every((output) => output.includes('ready\n'));
      },
      60_000,
      50,
    );
    for (const child of children) child.write('go\n');
    await waitFor('all three runs to finish', () => outputs().every((output) => /^\{.*\}$/m.test(output)), 30_000, 50);

    const runs = outputs().map((output) => JSON.parse(/^(\{.*\})$/m.exec(output)?.[1] as string) as ChildRun);
    expect(new Set(runs.map((run) => run.pid)).size).toBe(3);
    expect(runs.map((run) => run.state)).toEqual(['completed', 'completed', 'completed']);
    const results = runs.map((run) => run.result as ProcessDueRetriesResult);
    expect(results.reduce((sum, r) => sum + r.dispatched, 0)).toBe(ENTRIES);
    expect(results.reduce((sum, r) => sum + r.duplicates, 0)).toBe(0);

    // What a recipient would notice: every entry sent once, none twice, all marked dispatched.
    const db = domain.get(NotificationDatabase);
    expect(await domain.get(NotificationReport).deliveryCounts()).toEqual({
      sent: ENTRIES,
      duplicateSends: 0,
      deliveries: ENTRIES,
    });
    const perEntry = await db.query<{ correlation_id: string; n: number }>(
      `SELECT r.correlation_id, count(m.id)::int AS n FROM notification_retries r
       LEFT JOIN sent_messages m ON m.correlation_id = r.correlation_id GROUP BY r.correlation_id`,
    );
    expect(perEntry.rows).toHaveLength(ENTRIES);
    expect(perEntry.rows.filter((row) => row.n !== 1)).toEqual([]);
    const statuses = await db.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM notification_retries GROUP BY status',
    );
    expect(statuses.rows).toEqual([{ status: 'dispatched', n: ENTRIES }]);
    // NOTE: how the work was shared out varies from run to run; printed for the curious, not asserted.
    process.stdout.write(
      `dispatched per process: ${results.map((r) => r.dispatched).join(' / ')}; claims lost: ${results.map((r) => r.claimedElsewhere).join(' / ')}\n`,
    );
  }, 90_000);
});
