// npm start: the sandbox banks and the gateway in front of them, in one process.
import { checkBasePath } from '../plugin/surface/mount-prefix.js';
import { startSandbox } from '../sandbox/index.js';
import { BANK_NAMES } from '../sandbox/stats.js';
import config from '../hono.config.js';
import { saveDevKey } from './lib/dev-key-file.js';
import { runGateway } from './lib/run-gateway.js';

// Under a prefix, the redirect URI the banks see carries it: register it with the sandbox banks (loopback: any port).
const basePath = basePathOrExit(process.env.BANKGATE_BASE_PATH);
if (basePath) {
  const prefixed = BANK_NAMES.flatMap((bank) => [`http://127.0.0.1${basePath}/callback/${bank}`, `http://localhost${basePath}/callback/${bank}`]);
  process.env.SANDBOX_REDIRECT_URIS = [process.env.SANDBOX_REDIRECT_URIS, ...prefixed].filter(Boolean).join(',');
}
const sandbox = await startSandbox({ log: () => {} });
process.env.BANKGATE_SANDBOX_FILE = sandbox.filePath;
const running = await runGateway(config);
const { devKey, devKeyGenerated } = running.gateway;
if (devKeyGenerated) saveDevKey(devKey!);
const auth = `-H 'Authorization: Bearer ${devKey}'`;
const banks = [...running.gateway.config.banks.keys()];
console.log(`
bankgate is running at ${running.url}, in front of the sandbox banks ${banks.join(', ')}.
  dev key:        ${devKey}${devKeyGenerated ? '  (generated; saved to .bankgate/dev-key; set BANKGATE_DEV_KEY to choose one)' : ''}
  operations:     ${running.url}/openapi.json
  sandbox stats:  ${sandbox.file.statsUrl}

First calls (in another terminal):
  ${basePath ? `export BANKGATE_URL=${running.url}
  ` : ''}npm run connect -- --bank seb --connection demo-seb
  curl -s ${running.url}/seb/ais/accounts ${auth} -H 'X-Connection-Id: demo-seb' -H 'PSU-IP-Address: 203.0.113.7'
  npm run connect -- --bank sg --connection demo-sg
  curl -s ${running.url}/sg/aisp/accounts ${auth} -H 'X-Connection-Id: demo-sg'${banks.includes('bg') ? `
  npm run connect -- --bank bg --connection demo-bg
  curl -s ${running.url}/bg/xs2a/v1/accounts ${auth} -H 'X-Connection-Id: demo-bg' -H 'PSU-IP-Address: 203.0.113.7'` : ''}
`);
const stop = async () => {
  await running.stop();
  await sandbox.stop();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());

function basePathOrExit(value: string | undefined): string {
  try {
    return checkBasePath(value, 'BANKGATE_BASE_PATH');
  } catch (error) {
    console.error(`bankgate: ${(error as Error).message}`);
    process.exit(1);
  }
}
