#!/usr/bin/env node
// Provides what `npm test` needs that `npm install` does not: a list of small checks, each installing its
// tool where it can (root with apt-get) and otherwise printing the exact command and failing.
// Add a check per tool (e.g. Chromium) to CHECKS; keep each one a probe plus its install command.
// Usage: node scripts/ensure-test-deps.mjs
import { execFileSync, execSync } from 'node:child_process';

/** @type {{ name: string, why: string, probe: [string, string[]], apt: string[] }[]} */
const CHECKS = [
  {
    name: 'redis-server',
    why: 'the token vault tests (test/vault) run a real Redis',
    probe: ['redis-server', ['--version']],
    apt: ['redis-server'],
  },
  {
    name: 'chromium',
    why: "the /docs test (test/surface/docs.test.ts) drives Debian's Chromium with playwright-core",
    probe: ['chromium', ['--version']],
    apt: ['chromium'],
  },
];

function has([cmd, args]) {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = has(['apt-get', ['--version']]);
let failed = false;
for (const check of CHECKS) {
  if (has(check.probe)) continue;
  const command = `apt-get update && apt-get install -y ${check.apt.join(' ')}`;
  if (isRoot && hasApt) {
    console.log(`bankgate: ${check.name} not found (${check.why}); installing: ${command}`);
    try {
      execSync(command, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    } catch {
      console.error(`bankgate: installing ${check.name} failed; run: ${command}`);
      failed = true;
      continue;
    }
    if (has(check.probe)) continue;
    console.error(`bankgate: ${check.name} still not found after installing ${check.apt.join(' ')}`);
    failed = true;
  } else {
    console.error(`bankgate: ${check.name} not found; ${check.why}. Install it: sudo ${command}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
