// Prints the closing "N passed, N failed" line of vitest runs (their JSON reports), for CI.
// Usage: node scripts/test-summary.mjs [--label TEXT] [report.json ...]   (default .cache/vitest-report.json)
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const labelAt = args.indexOf('--label');
const label = labelAt === -1 ? '' : `${args.splice(labelAt, 2)[1]}: `;
const files = args.length > 0 ? args : ['.cache/vitest-report.json'];
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of files) {
  try {
    const report = JSON.parse(readFileSync(file, 'utf8'));
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    // A suite that failed to load (a syntax error, a failed import) runs no test but must count.
    failed += (report.testResults ?? []).filter((suite) => suite.status === 'failed' && (suite.assertionResults ?? []).length === 0).length;
  } catch {
    failed += 1;
  }
}
console.log(`${label}${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
if (failed > 0) process.exitCode = 1;
