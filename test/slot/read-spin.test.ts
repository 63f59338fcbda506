/**
 * Unit (src/slot/read-spin.ts): a reader looks again instead of sleeping only while messages
 * come faster than the spin window, and only within the window after the last read.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReadSpin, SPIN_WINDOW_MS } from '../../src/slot/read-spin.js';

const W = SPIN_WINDOW_MS;

test('a reader keeps looking within the window after a read, once reads come faster than the window', () => {
  const spin = new ReadSpin();
  spin.read(100);
  assert.equal(spin.keepLooking(100 + W / 2), false, 'one read says nothing of the pace: sleep');
  spin.read(100 + W / 2);
  assert.equal(spin.keepLooking(100 + W / 2 + W / 4), true, 'two reads within the window: look again');
  assert.equal(spin.keepLooking(100 + W / 2 + 2 * W), false, 'the window after the last read has passed: sleep');
});

test('reads further apart than the window put the reader back to sleeping at once', () => {
  const spin = new ReadSpin();
  spin.read(0);
  spin.read(W / 10);
  assert.equal(spin.keepLooking(W / 5), true);
  spin.read(10);
  assert.equal(spin.keepLooking(10), false, 'a read after a long gap: sleep');
  assert.equal(new ReadSpin(0).keepLooking(0), false, 'a window of 0 never spins');
});
