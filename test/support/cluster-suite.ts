import { TestingModule } from '@nestjs/testing';
import { JobsAppOptions, startJobsApp } from './jobs-app';
import { randomPrefix } from './redis';
import { RedisTopology, sharedTopology } from './redis-topology';

/** A suite's hold on the run's shared Redis Cluster: this case's prefix, its apps, and a way to start one. */
export interface ClusterSuite {
  readonly topology: RedisTopology;
  /** This case's key prefix (a new one per case). */
  readonly prefix: string;
  /** Apps of this case, closed after it. */
  readonly apps: TestingModule[];
  /** Starts an app on the cluster under this case's prefix; closed after the case. */
  start(options: Omit<JobsAppOptions, 'prefix' | 'connection'>): Promise<TestingModule>;
}

/**
 * The hooks of a suite on the shared cluster (call at the top of its `describe`): the topology in `beforeAll`, a fresh
 * prefix per case, and after each case its apps closed and its keys deleted on every master.
 */
export function onSharedCluster(label: string): ClusterSuite {
  let topology: RedisTopology | undefined;
  let prefix = '';
  const apps: TestingModule[] = [];
  beforeAll(async () => {
    topology = await sharedTopology('cluster');
  }, 60_000);
  afterAll(async () => {
    await topology?.destroy();
  });
  beforeEach(() => {
    prefix = randomPrefix(label);
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await topology?.deletePrefix(prefix);
  });
  return {
    get topology() {
      if (!topology) throw new Error('the cluster is not started yet: use the suite in a test or a hook');
      return topology;
    },
    get prefix() {
      return prefix;
    },
    apps,
    async start(options) {
      const app = await startJobsApp({ ...options, prefix, connection: this.topology.connection });
      apps.push(app);
      return app;
    },
  };
}
