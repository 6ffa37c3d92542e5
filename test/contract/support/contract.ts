import { TestingModule } from '@nestjs/testing';
import { BackgroundJobs } from 'nestjs-background-jobs';
import { startJobsApp, TransportKind } from '../../support/jobs-app';
import { randomPrefix } from '../../support/redis';
import { RedisTopology, RedisTopologyKind, sharedTopology, topologyCovered } from '../../support/redis-topology';

/** Where a contract case runs: the embedded transport, or BullMQ over one Redis, a Redis Cluster or Sentinel. */
export type ContractTarget = 'local' | `bullmq ${RedisTopologyKind}`;

export const CONTRACT_TARGETS = (
  ['bullmq standalone', 'local', 'bullmq cluster', 'bullmq sentinel'] as ContractTarget[]
).filter((target) => target === 'local' || topologyCovered(target.slice('bullmq '.length) as RedisTopologyKind));

type AppOptions = Omit<Parameters<typeof startJobsApp>[0], 'prefix' | 'transport' | 'connection'>;

/** What a contract case gets: its transport, a fresh key prefix per case, and apps that are closed after it. */
export interface Contract {
  readonly target: ContractTarget;
  readonly transport: TransportKind;
  /** This case's key prefix (a new one per case). */
  readonly prefix: string;
  /** The Redis topology of a BullMQ target; undefined on the embedded transport. */
  readonly topology: RedisTopology | undefined;
  /** Apps closed after each case; a case that starts one with `startApp` pushes it here. */
  readonly apps: TestingModule[];
  startApp(options: AppOptions): Promise<TestingModule>;
  /** Starts an app (closed after the case) and returns its BackgroundJobs. */
  boot(options: AppOptions): Promise<BackgroundJobs>;
}

/**
 * One behaviour, every transport: `cases` runs once per target, so everything a job author can observe in one
 * process behaves the same on BullMQ (over one Redis, a Redis Cluster and a Sentinel-managed master) and on the
 * embedded transport. Each file of test/contract is one behaviour.
 */
export function describeContract(behaviour: string, cases: (contract: Contract) => void): void {
  describe.each<ContractTarget>(CONTRACT_TARGETS)(`${behaviour} (transport contract): %s`, (target) => {
    const transport: TransportKind = target === 'local' ? 'local' : 'bullmq';
    let topology: RedisTopology | undefined;
    let prefix = '';
    const apps: TestingModule[] = [];

    beforeAll(async () => {
      if (target !== 'local') topology = await sharedTopology(target.replace('bullmq ', '') as RedisTopologyKind);
    }, 60_000);

    afterAll(async () => {
      await topology?.destroy();
    });

    beforeEach(() => {
      prefix = randomPrefix(`contract-${transport}`);
    });

    afterEach(async () => {
      await Promise.all(apps.splice(0).map((app) => app.close()));
      await topology?.deletePrefix(prefix);
    });

    const startApp = (options: AppOptions) =>
      startJobsApp({ prefix, transport, connection: topology?.connection, ...options });

    cases({
      target,
      transport,
      get prefix() {
        return prefix;
      },
      get topology() {
        return topology;
      },
      apps,
      startApp,
      boot: async (options) => {
        const app = await startApp(options);
        apps.push(app);
        return app.get(BackgroundJobs);
      },
    });
  });
}
