export * from './bullmq.transport';
export * from './bullmq-connections';
