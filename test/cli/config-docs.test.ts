/** The README's configuration table is the settings schema's (src/contract/config.ts), row for row. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { configTable } from '../../src/contract/config.js';

test("the README's configuration table is generated from the settings schema", () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  assert.ok(readme.includes(configTable()), `README.md must hold this table exactly (paste it under "## Configuration"):\n\n${configTable()}\n`);
});
