import type { Connection, ConnectionStore } from './connection.js';

/** Connections in this process's memory: lost on restart. For development and tests. */
export function createMemoryStore(): ConnectionStore {
  const byId = new Map<string, Connection>();
  const idByState = new Map<string, string>();
  return {
    async get(id) {
      return byId.get(id);
    },
    async put(connection) {
      const previous = byId.get(connection.id);
      if (previous?.pending) idByState.delete(previous.pending.state);
      byId.set(connection.id, connection);
      if (connection.pending) idByState.set(connection.pending.state, connection.id);
    },
    async delete(id) {
      const previous = byId.get(id);
      if (previous?.pending) idByState.delete(previous.pending.state);
      byId.delete(id);
    },
    async findByState(state) {
      const id = idByState.get(state);
      return id === undefined ? undefined : byId.get(id);
    },
    async close() {},
  };
}
