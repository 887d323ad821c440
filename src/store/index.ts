export * from './store.js';
export { SqliteLockedError } from './sqliteWasm.js';
