import { describe, expect, it } from 'vitest';
import { renderFlameGraph, type CpuProfile } from '../../bench/lib/flame-graph.js';

const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url, lineNumber: 0 }, children });

// (root) → respond (plugin) → writev (native) ×3 samples, respond self ×1; (root) → dispatch (undici) ×2 in two
// nodes that merge; (idle) ×10, which must not count.
const profile: CpuProfile = {
  nodes: [
    frame(1, '(root)', '', [2, 4, 5, 6]),
    frame(2, 'respond', 'file:///app/plugin/node/node-handler.ts', [3]),
    frame(3, 'writev', ''),
    frame(4, 'dispatch', 'file:///app/node_modules/undici/lib/dispatcher/agent.js'),
    frame(5, 'dispatch', 'file:///app/node_modules/undici/lib/dispatcher/agent.js'),
    frame(6, '(idle)', ''),
  ],
  samples: [3, 3, 3, 2, 4, 5, ...Array(10).fill(6)],
  timeDeltas: Array(16).fill(100),
};
const placeOf = (url: string) => (url.includes('node_modules/undici') ? 'undici' : url.includes('/plugin/') ? url.slice(url.indexOf('plugin/')) : url ? url : '(native / VM)');

function boxes(svg: string) {
  return [...svg.matchAll(/<title>([^<]*)<\/title><rect x="([\d.]+)" y="(\d+)" width="([\d.]+)"[^>]*fill="([^"]+)"/g)].map((m) => ({ title: m[1]!, x: Number(m[2]), y: Number(m[3]), width: Number(m[4]), fill: m[5]! }));
}

describe('renderFlameGraph', () => {
  const svg = renderFlameGraph(profile, 'test <profile>', placeOf);
  const drawn = boxes(svg);
  const byName = (name: string) => drawn.filter((b) => b.title.startsWith(`${name} `));

  it('widths are shares of the busy time; idle is left out', () => {
    expect(byName('all busy time')[0]!.width).toBe(1200);
    expect(byName('respond')[0]!.width).toBeCloseTo((4 / 6) * 1200, 0);
    expect(byName('writev')[0]!.width).toBeCloseTo((3 / 6) * 1200, 0);
    expect(byName('(idle)')).toEqual([]);
  });

  it('merges frames of the same function and place under one parent', () => {
    expect(byName('dispatch')).toHaveLength(1);
    expect(byName('dispatch')[0]!.width).toBeCloseTo((2 / 6) * 1200, 0);
    expect(byName('dispatch')[0]!.title).toBe('dispatch undici: 33.3 % (self 33.3 %)');
  });

  it('callees sit above their callers, coloured by whose code they are', () => {
    const [respond, writev, dispatch] = [byName('respond')[0]!, byName('writev')[0]!, byName('dispatch')[0]!];
    expect(writev.y).toBeLessThan(respond.y);
    expect(writev.x).toBe(respond.x);
    expect(respond.fill).toBe('#f08c00');
    expect(dispatch.fill).toBe('#12b886');
    expect(writev.fill).toBe('#adb5bd');
  });

  it('escapes text', () => {
    expect(svg).toContain('test &lt;profile&gt;');
    expect(svg.startsWith('<svg ')).toBe(true);
  });

  it('a profile with only idle samples says so instead of drawing', () => {
    const idle: CpuProfile = { nodes: [frame(1, '(root)', '', [2]), frame(2, '(idle)', '')], samples: [2, 2], timeDeltas: [100, 100] };
    const drawn = renderFlameGraph(idle, 'idle run', placeOf);
    expect(drawn).toContain('no busy samples');
    expect(drawn).not.toContain('NaN');
  });
});
