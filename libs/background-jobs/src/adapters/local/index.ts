export * from './local.transport';
export * from './in-memory.lock';
export * from './manual-clock';
