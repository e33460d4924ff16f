import type { ConnectionStore } from './connection.js';
import type { StoreConfig } from './config-schema.js';
import { createMemoryStore } from './memory-store.js';

/** The store the config names. */
export function createStore(config: StoreConfig): ConnectionStore {
  switch (config) {
    case 'memory':
      return createMemoryStore();
  }
}
