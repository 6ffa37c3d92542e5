// The public contract of nestjs-background-jobs (see DESIGN.md). Nothing internal is exported.
export { BackgroundJobsModule } from './background-jobs.module';
export { PipelineJob } from './pipeline-job.decorator';
export { OnJobEvent } from './on-job-event.decorator';
export { BackgroundJobsTesting } from './background-jobs.testing';
export { BackgroundJobs } from './core/background-jobs.service';
export type { JobRef } from './core/background-jobs.service';
export type { ExecutionQuery, ExecutionPage, QueueDepth } from './core/ports/transport.types';
export { BackgroundJobsHealthIndicator } from './operations/background-jobs.health';
export type { JobsHealthOptions } from './operations/background-jobs.health';
export { BackgroundJobsMetrics } from './operations/background-jobs.metrics';
export type { ExecutionDetail } from './operations/operations.controller';
export type { OperationsOverview } from './operations/operations.overview';
export { OperationsTokenGuard, markOperationsReadOnly } from './operations/operations-token.guard';
export type { OperationsTokenGuardOptions } from './operations/operations-token.guard';
export {
  TenantContext,
  TENANT_DIRECTORY,
  BACKGROUND_JOBS_TEST_CLOCK,
  DistributedLock,
  TransientJobError,
  PermanentJobError,
  JobDefinitionError,
  InvalidJobInputError,
  JobAbortedError,
  LockUnavailableError,
  RateLimitedError,
  UnknownLimitError,
  WaitTimeoutError,
  TenantDirectoryError,
  MissingOptionalPeerError,
  RedisUnreachableError,
  InvalidStepError,
} from './contracts';
export type {
  BackgroundJob,
  JobClass,
  JobDataOf,
  JobResultOf,
  JobContext,
  JobLeaseInfo,
  JobExecution,
  JobStep,
  BatchRun,
  BatchOptions,
  BatchCallback,
  BatchSummary,
  JobFailure,
  JobState,
  FailureKind,
  JobTenancy,
  EnqueueOptions,
  RunNowOptions,
  EnqueueArgs,
  RunNowArgs,
  RecurringJobInfo,
  PipelineJobOptions,
  ScheduleOptions,
  RetryOptions,
  HistoryOptions,
  JobLockOptions,
  FairnessOptions,
  BackgroundJobsModuleOptions,
  BackgroundJobsTestOptions,
  BackgroundJobsTestClock,
  TransportOptions,
  BullmqTransportOptions,
  LocalTransportOptions,
  RedisConnectionOptions,
  RedisClusterConnectionOptions,
  RedisClusterOptions,
  RedisClientInstance,
  RedisNodeAddress,
  RedisTlsOptions,
  BullmqConnection,
  WorkerOptions,
  JobDefaults,
  OperationsOptions,
  InputBounds,
  OperationsGuard,
  FailureClassifier,
  JobInterceptor,
  JobEvent,
  JobEventName,
  JobEventMap,
  JobEventBase,
  JobEventFailure,
  TenantDirectory,
  Lease,
  AcquireOptions,
  AbortKind,
  LimitKey,
  RateLimitOptions,
  ConcurrencyOptions,
  SharedLimitOptions,
  LimitOverride,
  JobWaiting,
  WaitingReason,
} from './contracts';
