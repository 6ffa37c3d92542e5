export * from './background-jobs.health';
export * from './background-jobs.metrics';
export * from './operations.controller';
export * from './operations-token.guard';
export * from './operations.mount';
export * from './operations.messages';
export * from './executions.query';
