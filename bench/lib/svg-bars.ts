/** A small horizontal bar chart as SVG text, one panel per measure, whiskers for the spread over rounds. */
export interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly bars: ReadonlyArray<{ label: string; value: number; min: number; max: number; highlight?: boolean }>;
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderBars(panels: readonly Panel[]): string {
  const width = 760;
  const left = 110;
  const right = 90;
  const barHeight = 22;
  const gap = 8;
  let y = 10;
  const parts: string[] = [];
  for (const panel of panels) {
    parts.push(`<text x="10" y="${y + 14}" font-size="14" font-weight="bold">${escape(panel.title)}</text>`);
    y += 26;
    const top = Math.max(...panel.bars.map((b) => b.max)) * 1.05 || 1;
    const scale = (v: number) => ((width - left - right) * v) / top;
    for (const bar of panel.bars) {
      const fill = bar.highlight ? '#d9480f' : '#4c6ef5';
      parts.push(
        `<text x="${left - 8}" y="${y + 15}" font-size="12" text-anchor="end">${escape(bar.label)}</text>`,
        `<rect x="${left}" y="${y}" width="${scale(bar.value).toFixed(1)}" height="${barHeight}" fill="${fill}" rx="2"/>`,
        `<line x1="${(left + scale(bar.min)).toFixed(1)}" x2="${(left + scale(bar.max)).toFixed(1)}" y1="${y + barHeight / 2}" y2="${y + barHeight / 2}" stroke="#212529" stroke-width="1.5"/>`,
        `<text x="${(left + scale(Math.max(bar.value, bar.max)) + 6).toFixed(1)}" y="${y + 15}" font-size="12">${Math.round(bar.value)} ${escape(panel.unit)}</text>`,
      );
      y += barHeight + gap;
    }
    y += 16;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
}
