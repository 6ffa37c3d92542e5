import { TestingModule } from '@nestjs/testing';
import { JobsAppOptions, startJobsApp } from '../../support/jobs-app';
import { deletePrefix, randomPrefix } from '../../support/redis';
import { RedisTopology, sharedTopology, topologyCovered } from '../../support/redis-topology';

/** Where a flow-control case runs: the embedded transport, or BullMQ on the suite's Redis, the cluster or Sentinel. */
export type FlowTarget = 'local' | 'bullmq' | 'cluster' | 'sentinel';

/** Every target a flow-control case runs on (cluster and Sentinel unless TEST_TOPOLOGIES leaves them out). */
export const FLOW_TARGETS = (['local', 'bullmq', 'cluster', 'sentinel'] as FlowTarget[]).filter(
  (target) => (target !== 'cluster' && target !== 'sentinel') || topologyCovered(target),
);

/**
 * For a describe block of one target: `boot` starts an app on it under the test's prefix; after each test every app
 * is closed and the prefix's keys deleted (on every master of the cluster). The cluster and the Sentinel set are the
 * run's shared ones (test/support/global-setup.ts), or the suite's own when run alone.
 */
export function flowApps(target: FlowTarget): {
  /** BullMQ instances a case starts to show a limit holds across them (one on the embedded transport). */
  instances: number;
  prefix: () => string;
  topology: () => RedisTopology | undefined;
  boot: (options: Omit<JobsAppOptions, 'prefix' | 'transport' | 'connection'>) => Promise<TestingModule>;
} {
  let prefix = '';
  let topology: RedisTopology | undefined;
  const apps: TestingModule[] = [];
  beforeAll(async () => {
    if (target === 'cluster' || target === 'sentinel') topology = await sharedTopology(target);
  }, 60_000);
  afterAll(async () => {
    await topology?.destroy();
  });
  beforeEach(() => {
    prefix = randomPrefix(`flow-${target}`);
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await (topology ? topology.deletePrefix(prefix) : deletePrefix(prefix));
  });
  return {
    instances: target === 'local' ? 1 : 2,
    prefix: () => prefix,
    topology: () => topology,
    boot: async (options) => {
      const app = await startJobsApp({
        ...options,
        prefix,
        transport: target === 'local' ? 'local' : 'bullmq',
        connection: topology?.connection,
      });
      apps.push(app);
      return app;
    },
  };
}
