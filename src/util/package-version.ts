/** The package's version, from its package.json (dist/src/util/ is three levels below the package root). */
import { readFileSync } from 'node:fs';

let cached: string | null = null;

export function packageVersion(): string {
  cached ??= (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cached;
}
