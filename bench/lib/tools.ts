/** wrk and nginx come from Debian: installed with apt-get when missing and we are root, else the command is printed. */
import { execFileSync, spawnSync } from 'node:child_process';

const has = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

export function ensureTools(commands: Record<string, string>): string[] {
  const missing = Object.entries(commands).filter(([command]) => !has(command));
  if (missing.length === 0) return [];
  const packages = missing.map(([, pkg]) => pkg);
  if (process.getuid?.() === 0) {
    console.log(`installing ${packages.join(' ')} (apt-get)…`);
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', ...packages], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    return Object.keys(commands).filter((command) => !has(command));
  }
  console.log(`missing ${missing.map(([c]) => c).join(', ')}: run  sudo apt-get install -y ${packages.join(' ')}`);
  return missing.map(([command]) => command);
}
