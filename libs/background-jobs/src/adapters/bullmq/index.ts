export * from './bullmq.transport';
