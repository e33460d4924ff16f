/**
 * A flame graph of a V8 `.cpuprofile` as SVG text, so the profile that explains a result is committed next
 * to it and opens in any browser (hover a frame for its share). Callers below, callees above; width is
 * time. Frames with the same function and place under the same parent are merged; `(idle)` is left out, so
 * the width is the process's busy time. Colour says whose code it is: bankgate, undici, Node, native.
 */
export interface CpuProfile {
  readonly nodes: ReadonlyArray<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** µs spent in each profile node itself (its samples' time deltas). */
export function selfTimeById(profile: CpuProfile): Map<number, number> {
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  return self;
}

interface Frame {
  readonly name: string;
  readonly place: string;
  self: number;
  total: number;
  readonly children: Map<string, Frame>;
}

const WIDTH = 1200;
const ROW = 17;
const MIN_WIDTH_PX = 0.4;

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** `placeOf` turns a frame's URL into what the colour and the tooltip show (a package, a project file, `node:x`). */
export function renderFlameGraph(profile: CpuProfile, title: string, placeOf: (url: string) => string): string {
  const root = mergedTree(profile, placeOf);
  if (root.total === 0) {
    // A process that never left idle (wrk reached nothing?): say so rather than draw NaN-wide boxes.
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="60" font-family="sans-serif"><text x="10" y="24" font-size="12">${escape(title)}</text><text x="10" y="44" font-size="12">no busy samples in this profile: the process was idle the whole time</text></svg>\n`;
  }
  const rows = depthOf(root, root.total * (MIN_WIDTH_PX / WIDTH));
  const height = (rows + 1) * ROW + 50;
  const parts: string[] = [];
  const draw = (frame: Frame, x: number, depth: number) => {
    const width = (frame.total / root.total) * WIDTH;
    if (width < MIN_WIDTH_PX) return;
    const y = height - 10 - (depth + 1) * ROW;
    const share = (100 * frame.total) / root.total;
    const tooltip = `${frame.name} ${frame.place}: ${share.toFixed(1)} % (self ${((100 * frame.self) / root.total).toFixed(1)} %)`;
    const label = fit(frame.name, width);
    parts.push(
      `<g><title>${escape(tooltip)}</title><rect x="${x.toFixed(1)}" y="${y}" width="${width.toFixed(1)}" height="${ROW - 1}" fill="${colourOf(frame)}" rx="1"/>` +
        (label ? `<text x="${(x + 3).toFixed(1)}" y="${y + 12}" font-size="11">${escape(label)}</text>` : '') +
        '</g>',
    );
    let at = x;
    for (const child of [...frame.children.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      draw(child, at, depth + 1);
      at += (child.total / root.total) * WIDTH;
    }
  };
  draw(root, 0, 0);
  const legend = LEGEND.map(([label, colour], i) => `<rect x="${10 + i * 150}" y="8" width="12" height="12" fill="${colour}"/><text x="${26 + i * 150}" y="18" font-size="12">${label}</text>`).join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    legend,
    `<text x="10" y="38" font-size="12">${escape(title)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

function mergedTree(profile: CpuProfile, placeOf: (url: string) => string): Frame {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = selfTimeById(profile);
  const root: Frame = { name: 'all busy time', place: '', self: 0, total: 0, children: new Map() };
  const visit = (id: number, into: Frame) => {
    const node = byId.get(id)!;
    const { functionName, url } = node.callFrame;
    if (functionName === '(idle)') return;
    const name = functionName || '(anonymous)';
    const place = placeOf(url);
    const key = `${name} ${place}`;
    let frame = into.children.get(key);
    if (!frame) {
      frame = { name, place, self: 0, total: 0, children: new Map() };
      into.children.set(key, frame);
    }
    frame.self += self.get(id) ?? 0;
    for (const child of node.children ?? []) visit(child, frame);
  };
  const top = profile.nodes[0]!; // V8's "(root)"
  for (const child of top.children ?? []) visit(child, root);
  sumTotals(root);
  return root;
}

function sumTotals(frame: Frame): number {
  frame.total = frame.self;
  for (const child of frame.children.values()) frame.total += sumTotals(child);
  return frame.total;
}

/** How deep the drawn frames go (frames too narrow to draw do not count). */
function depthOf(frame: Frame, minTotal: number): number {
  let deepest = 0;
  for (const child of frame.children.values()) if (child.total >= minTotal) deepest = Math.max(deepest, depthOf(child, minTotal) + 1);
  return deepest;
}

/** As much of the name as fits in the box (about 6.5 px per character at 11 px). */
function fit(name: string, width: number): string {
  const chars = Math.floor((width - 6) / 6.5);
  if (chars < 3) return '';
  return name.length <= chars ? name : `${name.slice(0, chars - 1)}…`;
}

const LEGEND: ReadonlyArray<[string, string]> = [
  ['bankgate (plugin/)', '#f08c00'],
  ['undici', '#12b886'],
  ['Node.js (node:*)', '#4dabf7'],
  ['native / VM', '#adb5bd'],
  ['other packages', '#b197fc'],
];

function colourOf(frame: Frame): string {
  if (frame.place.startsWith('plugin/') || frame.place.startsWith('bench/')) return LEGEND[0]![1];
  if (frame.place === 'undici') return LEGEND[1]![1];
  if (frame.place.startsWith('node:')) return LEGEND[2]![1];
  if (frame.place === '(native / VM)' || frame.place === '') return LEGEND[3]![1];
  return LEGEND[4]![1];
}
