export * from './store.js';
export { SqliteLockedError } from './sqliteWasm.js';
export { StoreRunLog } from './runLog.js';
