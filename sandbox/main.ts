/**
 * `npm run sandbox`: starts the sandbox banks, prints their URLs and the sandbox file, and stops cleanly on
 * SIGINT/SIGTERM. Env: SANDBOX_ACCESS_TTL (seconds), SANDBOX_PORT_BASE, SANDBOX_REDIRECT_URIS, SANDBOX_UKOB_FAPI (2.0 or 1.0),
 * BANKGATE_SANDBOX_DIR.
 */
import { startSandbox } from './index.js';

const sandbox = await startSandbox({
  dir: process.env.BANKGATE_SANDBOX_DIR ?? '.bankgate',
  log: (line) => console.log(`[sandbox] ${line}`),
});
const { banks } = sandbox.file;
const lines = [
  `sandbox file   ${sandbox.filePath}`,
  `control        ${sandbox.file.controlUrl}  (GET /stats, POST /reset, GET /requests?bank=seb|sg|ukob|bg, /seb/…, /bg/…)`,
  `seb  issuer    ${banks.seb.authorizationServer.issuer}`,
  `     authorize ${banks.seb.authorizationServer.authorizationEndpoint}`,
  `     token     ${banks.seb.authorizationServer.tokenEndpoint}`,
  ...Object.entries(banks.seb.apis).map(([api, url]) => `     ${api.padEnd(9)} ${url}`),
  `     PSU ids   ${banks.seb.psuIds.join(', ')}`,
  `sg   discovery ${banks.sg.authorizationServer.discoveryUrl}`,
  `     token     ${banks.sg.authorizationServer.mtlsTokenEndpoint}  (mTLS)`,
  ...Object.entries(banks.sg.apis).map(([api, url]) => `     ${api.padEnd(9)} ${url}`),
  `     PSU ids   ${banks.sg.psuIds.join(', ')}`,
  `ukob discovery ${banks.ukob.authorizationServer.discoveryUrl}  (FAPI ${banks.ukob.fapiProfile})`,
  `     PAR       ${banks.ukob.authorizationServer.mtlsParEndpoint}  (mTLS)`,
  `     token     ${banks.ukob.authorizationServer.mtlsTokenEndpoint}  (mTLS)`,
  ...Object.entries(banks.ukob.apis).map(([api, url]) => `     ${api.padEnd(9)} ${url}`),
  `     PSU ids   ${banks.ukob.psuIds.join(', ')}`,
  `bg   metadata  ${banks.bg.authorizationServer.metadataUrl}  (scaOAuth; token on ${banks.bg.authorizationServer.mtlsTokenEndpoint})`,
  ...Object.entries(banks.bg.apis).map(([api, url]) => `     ${api.padEnd(9)} ${url}  (Berlin Group NextGenPSD2 1.3.9)`),
  `     PSU ids   ${banks.bg.psuIds.join(', ')}  (password ${banks.bg.psus[0]?.password}, TAN ${banks.bg.psus[0]?.otp}; sandbox/bg/README.md)`,
  `     control   ${banks.bg.controlUrl}`,
];
console.log(lines.join('\n'));

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    sandbox.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
