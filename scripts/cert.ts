// npm run cert -- inspect FILE [--passphrase P]
// Subject, issuer, validity (saying `expired` when it is), key type and the x5t#S256 thumbprint of a PEM or
// PKCS#12 certificate, read the way the gateway reads it. A PKCS#12 Node cannot read gets the reason and
// the `openssl pkcs12 -legacy` command that converts it. Exit 1 when the file cannot be read.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatCertificateInfo, inspectCertificate } from '../plugin/adapter/node/transport/certificate-info.js';

const USAGE = 'usage: npm run cert -- inspect FILE [--passphrase P]';
const fail = (message: string): never => {
  console.error(`cert: ${message}`);
  process.exit(1);
};

const { values, positionals } = parseArgs({ options: { passphrase: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const [command, file, ...rest] = positionals;
if (command !== 'inspect' || file === undefined || rest.length > 0) fail(USAGE);

let bytes: Buffer;
try {
  bytes = readFileSync(file!);
} catch (error) {
  fail(`${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : `unreadable (${(error as NodeJS.ErrnoException).code})`}`);
}
try {
  console.log(formatCertificateInfo(file!, inspectCertificate(bytes!, { passphrase: values.passphrase, file: file! })));
} catch (error) {
  fail(`${file}: ${(error as Error).message}`);
}
