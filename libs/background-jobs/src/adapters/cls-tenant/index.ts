export * from './cls-tenant-context';
