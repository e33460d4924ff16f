// npm start: the sandbox banks and the gateway in front of them, in one process.
import { startSandbox } from '../sandbox/index.js';
import config from '../hono.config.js';
import { saveDevKey } from './lib/dev-key-file.js';
import { runGateway } from './lib/run-gateway.js';

const sandbox = await startSandbox({ log: () => {} });
process.env.BANKGATE_SANDBOX_FILE = sandbox.filePath;
const running = await runGateway(config);
const { devKey, devKeyGenerated } = running.gateway;
if (devKeyGenerated) saveDevKey(devKey!);
const auth = `-H 'Authorization: Bearer ${devKey}'`;
console.log(`
bankgate is running at ${running.url}, in front of the sandbox banks seb and sg.
  dev key:        ${devKey}${devKeyGenerated ? '  (generated; saved to .bankgate/dev-key; set BANKGATE_DEV_KEY to choose one)' : ''}
  operations:     ${running.url}/openapi.json
  sandbox stats:  ${sandbox.file.statsUrl}

First calls (in another terminal):
  npm run connect -- --bank seb --connection demo-seb
  curl -s ${running.url}/seb/ais/accounts ${auth} -H 'X-Connection-Id: demo-seb' -H 'PSU-IP-Address: 203.0.113.7'
  npm run connect -- --bank sg --connection demo-sg
  curl -s ${running.url}/sg/aisp/accounts ${auth} -H 'X-Connection-Id: demo-sg'
`);
const stop = async () => {
  await running.stop();
  await sandbox.stop();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
