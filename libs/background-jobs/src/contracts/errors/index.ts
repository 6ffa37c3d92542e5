export * from './transient-job.error';
export * from './permanent-job.error';
export * from './job-definition.error';
export * from './invalid-job-input.error';
export * from './job-aborted.error';
export * from './lock-unavailable.error';
export * from './rate-limited.error';
export * from './unknown-limit.error';
