import type { ApiChanges } from './changes.js';

/** `changes.json`: what one generation changed, for tools. Deterministic: no timestamps, APIs sorted. */
export interface ChangeReport {
  readonly generator: 'bankgate';
  /** Breaking changes across all APIs: non-zero makes `--fail-on-breaking` fail. */
  readonly breaking: number;
  readonly nonBreaking: number;
  /** Every API this generation regenerated, added or removed (unchanged APIs are omitted). */
  readonly apis: readonly ApiChanges[];
}

export const REPORT_JSON = 'changes.json';
export const REPORT_MARKDOWN = 'CHANGES.md';

export function buildReport(apis: readonly ApiChanges[]): ChangeReport {
  const sorted = [...apis].sort((a, b) => a.bank.localeCompare(b.bank, 'en') || a.api.localeCompare(b.api, 'en'));
  const all = sorted.flatMap((api) => api.changes);
  const breaking = all.filter((change) => change.breaking).length;
  return { generator: 'bankgate', breaking, nonBreaking: all.length - breaking, apis: sorted };
}

export function renderReportJson(report: ChangeReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** `CHANGES.md`: the same report for people, one table per API, breaking changes first. */
export function renderReportMarkdown(report: ChangeReport): string {
  const lines = [
    '# What the last `npm run generate` changed',
    '',
    `${report.breaking} breaking and ${report.nonBreaking} non-breaking change(s), compared with the previous generation on disk. Machine-readable: \`${REPORT_JSON}\`.`,
  ];
  for (const api of report.apis) {
    lines.push('', `## ${api.bank}/${api.api}: ${api.status}${api.breaking > 0 ? ` (${api.breaking} breaking)` : ''}`, '');
    if (api.changes.length === 0) {
      lines.push('No change callers can see (the spec or the generator changed, the operations did not).');
      continue;
    }
    lines.push('| | Operation | Change |', '|---|---|---|');
    const ordered = [...api.changes].sort((a, b) => Number(b.breaking) - Number(a.breaking));
    for (const change of ordered) {
      lines.push(`| ${change.breaking ? '**breaking**' : 'compatible'} | \`${change.operation}\` (${change.operationId}) | ${escapeCell(change.message)} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|').replace(/\r?\n/g, ' ');
}
