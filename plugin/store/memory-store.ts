import type { ConnectionStore } from './connection.js';
import { createLocalStore } from './local-store.js';

/** Connections in this process's memory: lost on restart. For tests (`store: 'memory'`). */
export function createMemoryStore(): ConnectionStore {
  return createLocalStore();
}
