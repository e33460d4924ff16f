#!/usr/bin/env node
// Provides what `npm test` needs that `npm install` does not: a list of small checks, each installing its
// tool where it can (root with apt-get) and otherwise printing the exact command and failing.
// Add a check per tool (e.g. Chromium) to CHECKS; keep each one a probe plus its install command.
// Usage: node scripts/ensure-test-deps.mjs
import { execFileSync, execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

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
// schemathesis (PyPI), pinned, in a virtualenv of the project's: test/surface/schemathesis.test.ts fuzzes the
// surface document with it. pip reaches PyPI; nothing is installed outside .cache/.
const SCHEMATHESIS = '4.32.5';
const venv = join(root, '.cache', 'python');
const schemathesis = join(venv, 'bin', 'schemathesis');
const installed = () => {
  try {
    return execFileSync(schemathesis, ['--version'], { encoding: 'utf8' }).includes(SCHEMATHESIS);
  } catch {
    return false;
  }
};
if (!installed()) {
  console.log(`bankgate: installing schemathesis ${SCHEMATHESIS} into .cache/python (the surface fuzz test needs it)`);
  try {
    if (!existsSync(join(venv, 'bin', 'pip'))) execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit' });
    execFileSync(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `schemathesis==${SCHEMATHESIS}`], { stdio: 'inherit' });
  } catch {
    console.error(`bankgate: installing schemathesis failed; it needs python3 with venv (Debian: apt-get install -y python3-venv) and PyPI`);
    failed = true;
  }
  if (!failed && !installed()) {
    console.error(`bankgate: ${schemathesis} does not answer --version after installing`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
