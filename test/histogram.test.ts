/** The round-trip histogram: observations land in the right bucket; quantiles interpolate as Prometheus does. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Histogram, quantile } from '../src/proxy/histogram.js';

test('an observation counts in the first bucket whose bound holds it; past the last, in the overflow', () => {
  const h = new Histogram([0.001, 0.01, 0.1]);
  for (const v of [0.0005, 0.001, 0.002, 0.05, 0.05, 3]) h.observe(v);
  const s = h.stats();
  assert.deepEqual(s.counts, [2, 1, 2, 1]);
  assert.equal(s.count, 6);
  assert.ok(Math.abs(s.sum - 3.1035) < 1e-12);
});

test('quantiles: linear within the bucket; null when empty; the last bound when past it', () => {
  const bounds = [1, 2, 4];
  assert.equal(quantile(bounds, [0, 0, 0, 0], 0.5), null);
  assert.equal(quantile(bounds, [0, 10, 0, 0], 0.5), 1.5);
  assert.equal(quantile(bounds, [10, 0, 10, 0], 0.75), 3);
  assert.equal(quantile(bounds, [0, 0, 0, 5], 0.99), 4);
});
