import { DynamicModule, Module, Provider } from '@nestjs/common';
import { DiscoveryModule, ModuleRef } from '@nestjs/core';
import { ClsModule, ClsService } from 'nestjs-cls';
import { BullmqTransport } from './adapters/bullmq';
import { ClsTenantContext } from './adapters/cls-tenant';
import { LocalTransport, InMemoryLock, ManualClock } from './adapters/local';
import { RedisLock } from './adapters/redis-lock';
import {
  BACKGROUND_JOBS_TEST_CLOCK,
  BackgroundJobsModuleOptions,
  BackgroundJobsTestClock,
  BackgroundJobsTestOptions,
  DistributedLock,
  OperationsOptions,
  TENANT_DIRECTORY,
  TenantContext,
  TenantDirectory,
} from './contracts';
import {
  BackgroundJobs,
  BatchStore,
  DependencyStore,
  Clock,
  AdmissionStore,
  AdmissionTallies,
  CronCalendar,
  ExecutionReader,
  JobEvents,
  JobRegistry,
  RunLogger,
  PipelineRunner,
  resolveOptions,
  ResolvedJobsOptions,
  RunQueue,
  ScheduleStore,
  SYSTEM_TIME,
  TenantDirectoryLocator,
} from './core';
import { BackgroundJobsExplorer } from './background-jobs.explorer';
import { CronParserCalendar } from './cron-calendar';
import {
  ASYNC_OPTIONS_TYPE,
  BACKGROUND_JOBS_MODULE_OPTIONS,
  BackgroundJobsConfigurableModule,
  OPTIONS_TYPE,
} from './background-jobs.module-definition';
import { BackgroundJobsRegistrar, SHUTDOWN_HOOKS_CHECK } from './background-jobs.registrar';
import { SINGLE_REGISTRATION, singleRegistration, withRegistration } from './background-jobs.registration';
import { BackgroundJobsTesting } from './background-jobs.testing';
import { PipelineJobMetadataAccessor } from './pipeline-job-metadata.accessor';
import { BackgroundJobsHealthIndicator, BackgroundJobsMetrics, withOperations } from './operations';

// NOTE: the only place adapters are wired: everything else depends on ports.

/** A port the transport carries as one of its parts, provided from the transport (RunQueue) the module made. */
function fromTransport(
  provide: Function,
  part: 'executions' | 'schedules' | 'batches' | 'dependencies' | 'admission',
): Provider {
  return { provide, useFactory: (transport: BullmqTransport | LocalTransport) => transport[part], inject: [RunQueue] };
}
const providers: Provider[] = [
  singleRegistration,
  // NOTE: null is real time; a test overrides it (or forTest() sets it) to run the same registration on the test clock.
  { provide: BACKGROUND_JOBS_TEST_CLOCK, useValue: null },
  {
    provide: ManualClock,
    useFactory: (test: BackgroundJobsTestClock | null) => (test ? new ManualClock(test.now ?? new Date()) : null),
    inject: [BACKGROUND_JOBS_TEST_CLOCK],
  },
  {
    // NOTE: on the test clock the configured transport is replaced before validation, so it is never connected.
    provide: ResolvedJobsOptions,
    useFactory: (raw: BackgroundJobsModuleOptions, _single: true, testClock: ManualClock | null) =>
      resolveOptions(testClock ? { ...raw, transport: { type: 'local' } } : raw),
    inject: [BACKGROUND_JOBS_MODULE_OPTIONS, SINGLE_REGISTRATION, ManualClock],
  },
  {
    provide: TenantContext,
    useFactory: (cls: ClsService, options: ResolvedJobsOptions) => new ClsTenantContext(cls, options.tenantClsKey),
    inject: [ClsService, ResolvedJobsOptions],
  },
  {
    // NOTE: the transport object is the run queue and owns the lifecycle; its other two ports are its parts.
    provide: RunQueue,
    useFactory: (options: ResolvedJobsOptions, testClock: ManualClock | null): BullmqTransport | LocalTransport => {
      const transport = options.transport;
      if (testClock) return new LocalTransport({ worker: options.worker, clock: testClock });
      if (transport.type === 'bullmq') {
        return new BullmqTransport({
          connection: transport.connection,
          prefix: transport.prefix,
          worker: options.worker,
        });
      }
      return new LocalTransport({ worker: options.worker });
    },
    inject: [ResolvedJobsOptions, ManualClock],
  },
  fromTransport(ExecutionReader, 'executions'),
  fromTransport(ScheduleStore, 'schedules'),
  fromTransport(BatchStore, 'batches'),
  fromTransport(DependencyStore, 'dependencies'),
  {
    provide: TenantDirectoryLocator,
    useFactory: (moduleRef: ModuleRef): TenantDirectoryLocator => ({
      find: () => {
        try {
          return moduleRef.get<TenantDirectory>(TENANT_DIRECTORY, { strict: false });
        } catch {
          return undefined;
        }
      },
    }),
    inject: [ModuleRef],
  },
  {
    provide: DistributedLock,
    useFactory: (transport: BullmqTransport | LocalTransport): DistributedLock =>
      transport instanceof BullmqTransport
        ? new RedisLock(transport.connections.createClient('lock'), {
            prefix: transport.prefix,
            hashTags: transport.connections.isCluster,
            completionOnSameServer: true,
          })
        : new InMemoryLock(),
    inject: [RunQueue],
  },
  // NOTE: each transport owns its admission store: it parks and wakes the runs the store holds back.
  fromTransport(AdmissionStore, 'admission'),
  { provide: CronCalendar, useClass: CronParserCalendar },
  {
    provide: Clock,
    useFactory: (testClock: ManualClock | null): Clock => testClock ?? SYSTEM_TIME,
    inject: [ManualClock],
  },
  // NOTE: a test app is closed by the test, not by SIGTERM: no warning about shutdown hooks on the test clock.
  { provide: SHUTDOWN_HOOKS_CHECK, useFactory: (testClock: ManualClock | null) => !testClock, inject: [ManualClock] },
  BackgroundJobsTesting,
  JobRegistry,
  JobEvents,
  AdmissionTallies,
  RunLogger,
  PipelineRunner,
  BackgroundJobs,
  PipelineJobMetadataAccessor,
  BackgroundJobsExplorer,
  BackgroundJobsRegistrar,
  BackgroundJobsMetrics,
  BackgroundJobsHealthIndicator,
];

/**
 * Discovers `@PipelineJob` providers, validates them at boot, schedules the recurring ones and runs every job
 * through one pipeline. Global by default (`isGlobal: false` to opt out). Works with or without the host's own
 * `ClsModule.forRoot`.
 */
@Module({
  imports: [DiscoveryModule, ClsModule],
  providers,
  exports: [
    BackgroundJobs,
    TenantContext,
    DistributedLock,
    BackgroundJobsMetrics,
    BackgroundJobsHealthIndicator,
    BackgroundJobsTesting,
  ],
})
export class BackgroundJobsModule extends BackgroundJobsConfigurableModule {
  /** Configures the module; with `operations: { guard }` it also mounts the REST surface (see README). */
  static forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    return withRegistration(withOperations(super.forRoot(options), options.operations, false), 'forRoot()');
  }

  /** Like forRoot with options from a factory; `operations` goes here, beside `useFactory`, not in its result. */
  static forRootAsync(options: typeof ASYNC_OPTIONS_TYPE & { operations?: OperationsOptions }): DynamicModule {
    return withRegistration(withOperations(super.forRootAsync(options), options.operations, true), 'forRootAsync()');
  }

  /**
   * For tests: the module on the embedded transport with a clock that moves only when told. Inject
   * `BackgroundJobsTesting` to move it (`advanceBy`, `advanceTo`: each cron tick, delay and retry on the way runs at its
   * time) and to `drain()` what is due, delayed runs included, so a test of a cron or delayed job needs no sleeps.
   * See docs/testing.md.
   */
  static forTest(options: BackgroundJobsTestOptions = {}): DynamicModule {
    const { now, ...rest } = options;
    const module = this.forRoot({ ...rest, transport: { type: 'local' } });
    // NOTE: of two providers of one token in a module, Nest keeps the later: this one puts forRoot on the test clock.
    const testClock: BackgroundJobsTestClock = { now };
    const onTestClock = {
      ...module,
      providers: [...(module.providers ?? []), { provide: BACKGROUND_JOBS_TEST_CLOCK, useValue: testClock }],
    };
    return withRegistration(onTestClock, 'forTest()');
  }
}
