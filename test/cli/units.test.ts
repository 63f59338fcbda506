/** Numbers on a terminal: small traffic does not round to 0; bytes in binary units with one decimal. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes, formatRate, formatSeconds } from '../../src/cli/units.js';

test('bytes: whole bytes as they are, fractions and larger units with one decimal', () => {
  assert.deepEqual([0, 0.4, 100, 99.5, 1023, 1536, 5 * 1024 * 1024 + 300_000, 3 * 1024 ** 3].map(formatBytes), ['0 B', '0.4 B', '100 B', '99.5 B', '1023 B', '1.5 KiB', '5.3 MiB', '3.0 GiB']);
});

test('rates: one decimal below 100, then k and M', () => {
  assert.deepEqual([0, 0.3, 12.5, 950, 12_345, 2_050_000].map(formatRate), ['0', '0.3', '12.5', '950', '12.3k', '2.05M']);
});

test('durations in the unit that fits', () => {
  assert.deepEqual([0.000085, 0.0012, 0.25, 2.5].map(formatSeconds), ['85 µs', '1.20 ms', '250.0 ms', '2.50 s']);
});
