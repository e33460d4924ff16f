import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['plugin/**/*.test.ts', 'test/**/*.test.ts'],
    // Real servers (sandbox banks, JVM generator) start in many tests: give them room on a 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default', 'json'],
    outputFile: { json: '.cache/vitest-report.json' },
    maxWorkers: 2,
  },
});
