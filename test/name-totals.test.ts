/** Slot counters by name: they never go back, and names nobody holds go after a while, or past a bound. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NameTotals, type SlotCounters } from '../src/proxy/name-totals.js';

function slot(name: string, messagesIn: number, queuedBytes = 0): SlotCounters & { name: string; queuedBytes: number } {
  return { name, queuedBytes, messagesIn, messagesOut: 0, bytesIn: messagesIn * 10, bytesOut: 0, cellsIn: 1, cellsOut: 0, doorbellsRung: 0, doorbellsSaved: 0, backPressureWaits: 0 };
}

test('a name adds up its live processes and the ones gone; a name gone is kept until its time is up', () => {
  const registered = new Set(['web']);
  const totals = new NameTotals((n) => registered.has(n), 1000, 10);
  const at = (stats: ReturnType<NameTotals['stats']>, name: string) => stats.find((s) => s.name === name);
  totals.retire('web', slot('web', 5), 0);
  let s = totals.stats([slot('web', 3, 7), slot('web', 4, 1)], 0);
  assert.deepEqual({ ...at(s, 'web') }, { name: 'web', processes: 2, queuedBytes: 8, messagesIn: 12, messagesOut: 0, bytesIn: 120, bytesOut: 0, cellsIn: 3, cellsOut: 0, doorbellsRung: 0, doorbellsSaved: 0, backPressureWaits: 0 });
  // Long after its first process went, a name still held keeps what that process did.
  s = totals.stats([slot('web', 3)], 10_000);
  assert.equal(at(s, 'web')!.messagesIn, 8);
  // Its last process goes: kept with 0 processes until the retention passes, then dropped.
  registered.delete('web');
  totals.retire('web', slot('web', 3), 10_000);
  s = totals.stats([], 10_900);
  assert.equal(at(s, 'web')!.processes, 0);
  assert.equal(at(s, 'web')!.messagesIn, 8);
  assert.equal(at(totals.stats([], 11_001), 'web'), undefined);
});

test('at most maxDeparted names nobody holds are kept, the longest gone dropped first', () => {
  const totals = new NameTotals(() => false, 60_000, 2);
  totals.retire('a', slot('a', 1), 1);
  totals.retire('b', slot('b', 1), 2);
  totals.retire('c', slot('c', 1), 3);
  assert.deepEqual(totals.stats([], 4).map((s) => s.name), ['b', 'c']);
  // Leaving again makes a name the most recent.
  totals.retire('b', slot('b', 1), 5);
  totals.retire('d', slot('d', 1), 6);
  assert.deepEqual(totals.stats([], 7).map((s) => [s.name, s.messagesIn]), [['b', 2], ['d', 1]]);
});
