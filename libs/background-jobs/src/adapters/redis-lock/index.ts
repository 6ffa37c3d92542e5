export * from './redis-lock.adapter';
