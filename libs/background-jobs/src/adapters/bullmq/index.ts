export * from './bullmq.transport';
export * from './bullmq-connections';
export * from './redis-connection';
export * from './redis-connection-parser';
