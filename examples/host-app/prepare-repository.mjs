// npm start's first step: this example runs the repository's sandbox banks and its bankgate build, so the
// repository must be installed and built. Installs it once (npm ci), then builds its JavaScript (incremental).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repository = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const npm = (args) => execFileSync('npm', args, { cwd: repository, stdio: 'inherit' });
if (!existsSync(join(repository, 'node_modules', '.package-lock.json'))) npm(['ci', '--no-audit', '--no-fund']);
npm(['run', '--silent', 'build', '--', '--js']);
