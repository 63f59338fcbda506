/** Test certificates made with the openssl command: a CA and node certificates signed by it. */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });

/** Creates `${name}-ca.crt/.key` in `dir`. */
export function makeCa(dir: string, name: string): void {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}-ca.key`, '-out', `${name}-ca.crt`, '-subj', `/CN=${name}-ca`, '-days', '2'], dir);
}

/** Creates `${node}.crt/.key` for node `node`, signed by CA `ca`; returns the proxy flags. */
export function makeNodeCert(dir: string, ca: string, node: string, file = node): string[] {
  const ext = join(dir, `${file}.ext`);
  writeFileSync(ext, `subjectAltName=DNS:${node}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${file}.key`, '-out', `${file}.csr`, '-subj', `/CN=${node}`], dir);
  openssl(['x509', '-req', '-in', `${file}.csr`, '-CA', `${ca}-ca.crt`, '-CAkey', `${ca}-ca.key`, '-CAcreateserial', '-out', `${file}.crt`, '-days', '2', '-extfile', ext], dir);
  return ['--tls-cert', join(dir, `${file}.crt`), '--tls-key', join(dir, `${file}.key`), '--tls-ca', join(dir, `${ca}-ca.crt`)];
}
