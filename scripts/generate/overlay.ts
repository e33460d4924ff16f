import { GenerateError, GenerateErrors } from './errors.js';
import { pointerOf } from './json-pointer.js';
import { queryJsonPath } from './jsonpath.js';
import { loadSpec, type SpecDocument } from './load-spec.js';

/** One overlay file, parsed and checked: what to apply, and how to name each action in messages. */
export interface Overlay {
  /** The overlay as named in messages. */
  readonly file: string;
  readonly actions: readonly OverlayAction[];
}

interface OverlayAction {
  readonly target: string;
  readonly update?: unknown;
  readonly remove: boolean;
  /** `#/actions/3`, for messages. */
  readonly pointer: string;
}

/**
 * Reads an OpenAPI Overlay 1.0 document (YAML or JSON): `overlay: 1.0.x`, `info`, and `actions`, each with a JSONPath
 * `target` and either `update` or `remove: true`. Every problem is reported with the overlay file and pointer.
 */
export async function loadOverlay(path: string, file: string): Promise<Overlay> {
  const doc = await loadSpec(path, file);
  const problems: GenerateError[] = [];
  const invalid = (pointer: string, reason: string) => problems.push(new GenerateError('OVERLAY_INVALID', reason, { file, pointer }));
  if (typeof doc['overlay'] !== 'string' || !/^1\.0\.\d+$/.test(doc['overlay'])) invalid('#/overlay', 'not an Overlay 1.0 document: expected overlay: 1.0.0');
  const actions: OverlayAction[] = [];
  if (!Array.isArray(doc['actions']) || doc['actions'].length === 0) invalid('#/actions', 'expected a non-empty list of actions');
  else {
    doc['actions'].forEach((raw: unknown, index) => {
      const pointer = pointerOf(['actions', index]);
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return invalid(pointer, 'an action must be an object with target and update or remove');
      const action = raw as Record<string, unknown>;
      if (typeof action['target'] !== 'string' || action['target'] === '') return invalid(`${pointer}/target`, 'missing JSONPath target');
      try {
        queryJsonPath({}, action['target']);
      } catch (error) {
        return invalid(`${pointer}/target`, `invalid JSONPath: ${(error as Error).message}`);
      }
      const remove = action['remove'] === true;
      if (action['remove'] !== undefined && typeof action['remove'] !== 'boolean') return invalid(`${pointer}/remove`, 'remove must be true or false');
      if (!remove && action['update'] === undefined) return invalid(pointer, 'an action needs update or remove: true');
      if (remove && action['update'] !== undefined) return invalid(pointer, 'an action cannot both update and remove');
      actions.push({ target: action['target'], remove, pointer, ...(remove ? {} : { update: action['update'] }) });
    });
  }
  if (problems.length > 0) throw new GenerateErrors(problems);
  return { file, actions };
}

/**
 * Applies overlays in order to a copy of `doc` (the bank's file is never touched, on disk or in memory), following
 * Overlay 1.0: `update` on an object merges recursively (objects merge, arrays and scalars replace), `update` on an
 * array appends, `remove` deletes the selected nodes. An action selecting nothing is reported through `warn` (the
 * bank may have fixed its spec; the overlay is then stale), not an error.
 */
export function applyOverlays(doc: SpecDocument, overlays: readonly Overlay[], warn: (line: string) => void): SpecDocument {
  const result = structuredClone(doc);
  for (const overlay of overlays) {
    for (const action of overlay.actions) {
      const nodes = queryJsonPath(result, action.target);
      if (nodes.length === 0) {
        warn(`warning: ${overlay.file}: ${action.pointer}: target ${action.target} selects nothing; the overlay may be stale`);
        continue;
      }
      if (action.remove) {
        // Remove array items from the highest index down, so earlier removals do not shift later ones.
        const ordered = [...nodes].sort((a, b) => (typeof b.key === 'number' && typeof a.key === 'number' ? b.key - a.key : 0));
        for (const node of ordered) {
          if (node.parent === undefined) throw new GenerateError('OVERLAY_INVALID', 'cannot remove the whole document', { file: overlay.file, pointer: `${action.pointer}/target` });
          if (Array.isArray(node.parent)) node.parent.splice(node.key as number, 1);
          else delete (node.parent as Record<string, unknown>)[node.key as string];
        }
        continue;
      }
      for (const node of nodes) {
        if (Array.isArray(node.value)) node.value.push(structuredClone(action.update));
        else if (isObject(node.value) && isObject(action.update)) merge(node.value, action.update);
        else {
          throw new GenerateError('OVERLAY_INVALID', `target ${action.target} selects a ${node.value === null ? 'null' : typeof node.value}; update needs an object target (merge) or an array target (append) and an object update`, {
            file: overlay.file,
            pointer: `${action.pointer}/update`,
          });
        }
      }
    }
  }
  return result;
}

function merge(target: Record<string, unknown>, update: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(update)) {
    const current = target[key];
    if (isObject(current) && isObject(value)) merge(current, value);
    else target[key] = structuredClone(value);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

