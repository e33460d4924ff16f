// Prints the closing "N passed, N failed" line of the last vitest run (its JSON report), for CI.
import { readFileSync } from 'node:fs';

try {
  const report = JSON.parse(readFileSync('.cache/vitest-report.json', 'utf8'));
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
} catch {
  console.log('0 passed, 1 failed');
  process.exitCode = 1;
}
