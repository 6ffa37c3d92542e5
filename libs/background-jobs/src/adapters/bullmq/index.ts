export * from './bullmq.transport';
export * from './redis-connection';
