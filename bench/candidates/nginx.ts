/**
 * nginx as a candidate: `proxy_pass` to the upstream over mTLS (`proxy_ssl_certificate`), the bank token set
 * with `proxy_set_header Authorization`, upstream keep-alive. One worker process: the Node candidates are one
 * event loop each, and the CPU per request is summed over master and worker anyway.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PkiFiles } from '../lib/pki-files.js';
import { stopProcess, type Started } from '../lib/processes.js';

export function nginxConfig(dir: string, port: number, upstreamPort: number, pki: PkiFiles, bearer: string): string {
  return `daemon off;
master_process on;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  keepalive_requests 100000;
  upstream bank {
    server 127.0.0.1:${upstreamPort};
    keepalive 64;
    keepalive_requests 100000;
  }
  server {
    listen 127.0.0.1:${port};
    location /bench/api/ {
      proxy_pass https://bank/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host 127.0.0.1;
      proxy_set_header Authorization "Bearer ${bearer}";
      proxy_set_header X-Connection-Id "";
      proxy_ssl_certificate ${pki.clientCert};
      proxy_ssl_certificate_key ${pki.clientKey};
      proxy_ssl_trusted_certificate ${pki.caCert};
      proxy_ssl_verify on;
      proxy_ssl_name localhost;
      proxy_ssl_session_reuse on;
    }
  }
}
`;
}

/** Starts nginx in the foreground and waits until it forwards a call. */
export async function startNginx(dir: string, port: number, upstreamPort: number, pki: PkiFiles, bearer: string): Promise<Started> {
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(dir, port, upstreamPort, pki, bearer));
  const child = spawn('nginx', ['-p', dir, '-c', conf], { stdio: 'ignore' });
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: see ${join(dir, 'error.log')}`);
    const ok = await fetch(`http://127.0.0.1:${port}/bench/api/accounts`).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`nginx did not forward within 15 s: see ${join(dir, 'error.log')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, pid: child.pid!, readyLine: `http://127.0.0.1:${port}`, stop: () => stopProcess(child) };
}
