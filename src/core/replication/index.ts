/** Replication core: common base, pair state, plans (sync, rollback, clone rebase), diagnosis. Pure data and logic; nothing here runs a command. */
export * from './argv.js';
export * from './commonBase.js';
export * from './state.js';
export * from './plan.js';
export * from './processes.js';
export * from './rollback.js';
export * from './cloneRebase.js';
export * from './sync.js';
export * from './diagnose.js';
