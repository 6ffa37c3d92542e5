export * from './local.transport';
export * from './in-memory.lock';
