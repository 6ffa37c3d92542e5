import { INestApplication, Provider, Type } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import {
  BACKGROUND_JOBS_TEST_CLOCK,
  BackgroundJobsModule,
  BackgroundJobsModuleOptions,
  BackgroundJobsTestClock,
  BullmqConnection,
  JobContext,
  PipelineJob,
  PipelineJobOptions,
} from 'nestjs-background-jobs';
import { deletePrefix, randomPrefix, testRedisUrl } from './redis';

/** Declares a `@PipelineJob` class whose body is `body`, named `name` (as errors would show it). */
export function defineJob(
  name: string,
  options: PipelineJobOptions,
  body: (ctx: JobContext<any>) => unknown = () => undefined,
): Type {
  const cls = class {
    execute(ctx: JobContext<any>): unknown {
      return body(ctx);
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  PipelineJob(options)(cls);
  return cls;
}

export type TransportKind = 'bullmq' | 'local';

export interface JobsAppOptions extends Partial<Omit<BackgroundJobsModuleOptions, 'transport'>> {
  prefix: string;
  /** @default 'bullmq' */
  transport?: TransportKind;
  jobs: Type[];
  /** @default { url: testRedisUrl() } */
  connection?: BullmqConnection;
  providers?: Provider[];
  imports?: any[];
  /**
   * On the embedded transport only: run on the test clock (`BACKGROUND_JOBS_TEST_CLOCK`), so `timeOf(app)` moves time
   * instead of waiting for it. Ignored on BullMQ, which has no test clock.
   */
  testClock?: BackgroundJobsTestClock;
}

/** A booted Nest app context with the module on the suite's Redis. Close it in afterEach. */
export async function startJobsApp(options: JobsAppOptions): Promise<TestingModule> {
  const { prefix, jobs, providers = [], imports = [], transport = 'bullmq', connection, testClock, ...rest } = options;
  const builder = Test.createTestingModule({
    imports: [
      ...imports,
      BackgroundJobsModule.forRoot({
        transport:
          transport === 'local'
            ? { type: 'local' }
            : { type: 'bullmq', connection: connection ?? { url: testRedisUrl() }, prefix },
        ...rest,
      }),
    ],
    providers: [...jobs, ...providers],
  });
  if (testClock && transport === 'local') builder.overrideProvider(BACKGROUND_JOBS_TEST_CLOCK).useValue(testClock);
  const moduleRef = await builder.compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  return moduleRef;
}

/**
 * For a describe block: a fresh prefix before each test (`prefix()`), and after it every app `boot` started closed
 * and the prefix's keys deleted.
 */
export function appsPerTest(label: string): {
  prefix: () => string;
  boot: (options: Omit<JobsAppOptions, 'prefix'>) => Promise<TestingModule>;
} {
  let prefix = '';
  const apps: TestingModule[] = [];
  beforeEach(() => {
    prefix = randomPrefix(label);
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await deletePrefix(prefix);
  });
  return {
    prefix: () => prefix,
    boot: async (options) => {
      const app = await startJobsApp({ ...options, prefix });
      apps.push(app);
      return app;
    },
  };
}

/**
 * A booted Nest HTTP app with the module on the suite's Redis under `prefix`; pushed onto `apps` before init, so
 * afterEach closes it even when init fails.
 */
export async function startHttpJobsApp(
  apps: INestApplication[],
  prefix: string,
  jobs: Type[],
  options: Partial<BackgroundJobsModuleOptions>,
  connection: BullmqConnection = { url: testRedisUrl() },
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [BackgroundJobsModule.forRoot({ transport: { type: 'bullmq', connection, prefix }, ...options })],
    providers: jobs,
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  apps.push(app);
  await app.init();
  return app;
}
