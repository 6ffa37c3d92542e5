// The public contract of nestjs-background-jobs (see DESIGN.md). Nothing internal is exported.
export { BackgroundJobsModule } from './background-jobs.module';
export { PipelineJob } from './pipeline-job.decorator';
export { BackgroundJobs } from './core/background-jobs.service';
export type { JobRef } from './core/background-jobs.service';
export type { ExecutionQuery, ExecutionPage, QueueDepth } from './core/ports/transport.types';
export { BackgroundJobsHealthIndicator } from './operations/background-jobs.health';
export type { JobsHealthOptions } from './operations/background-jobs.health';
export { BackgroundJobsMetrics } from './operations/background-jobs.metrics';
export type { ExecutionDetail } from './operations/operations.controller';
export {
  TenantContext,
  TENANT_DIRECTORY,
  DistributedLock,
  TransientJobError,
  PermanentJobError,
  JobDefinitionError,
  InvalidJobInputError,
  JobAbortedError,
  LockUnavailableError,
} from './contracts';
export type {
  BackgroundJob,
  JobContext,
  JobLeaseInfo,
  JobExecution,
  JobFailure,
  JobState,
  FailureKind,
  JobTenancy,
  EnqueueOptions,
  RunNowOptions,
  RecurringJobInfo,
  PipelineJobOptions,
  ScheduleOptions,
  RetryOptions,
  HistoryOptions,
  JobLockOptions,
  BackgroundJobsModuleOptions,
  TransportOptions,
  BullmqTransportOptions,
  LocalTransportOptions,
  RedisConnectionOptions,
  WorkerOptions,
  JobDefaults,
  OperationsOptions,
  FailureClassifier,
  JobInterceptor,
  TenantDirectory,
  Lease,
  AcquireOptions,
  AbortKind,
} from './contracts';
