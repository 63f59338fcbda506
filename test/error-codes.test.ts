/** Every error code is documented for client writers (docs/slot-layout.md §7) and known to libslotlink. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ErrorCode } from '../src/errors.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

test('docs/slot-layout.md §7 and clients/c/slotlink.h list every SLOTLINK_ERR_* code, and no other', () => {
  const spec = read('docs/slot-layout.md');
  const section = spec.slice(spec.indexOf('## 7. Error codes'));
  const header = read('clients/c/slotlink.h');
  const codes = Object.values(ErrorCode) as string[];
  for (const code of codes) {
    assert.ok(section.includes(`\`${code}\``), `${code} is in the spec's table`);
    assert.ok(header.includes(`"${code}"`) || header.includes(code), `${code} is in slotlink.h`);
  }
  for (const named of new Set(section.match(/SLOTLINK_ERR_[A-Z_]+/g))) assert.ok(codes.includes(named), `${named} (in the spec) is a code src/errors.ts defines`);
});
