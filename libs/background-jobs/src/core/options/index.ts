export * from './option-rule';
export * from './option-rules';
export * from './option-keys';
export * from './unknown-keys';
