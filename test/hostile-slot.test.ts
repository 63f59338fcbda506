/**
 * A process that writes garbage into its own slot loses its registration with an error
 * naming what was wrong; the proxy and every other process keep running.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Rig } from './helpers/rig.js';
import type { Worker } from './helpers/worker.js';

let rig: Rig;
let a: Worker;
let b: Worker;
before(async () => {
  rig = await Rig.start();
  a = await rig.worker('good-a');
  b = await rig.worker('good-b', { echo: true });
});
after(() => rig.close());

const cases = [
  { kind: 'usedBytes', code: 'SLOTLINK_ERR_BAD_SLOT', message: /usedBytes \d+ exceeds the cell's 65536 data bytes/ },
  { kind: 'recordBytes', code: 'SLOTLINK_ERR_BAD_RECORD', message: /recordBytes 1073741824 runs past/ },
  { kind: 'recordKind', code: 'SLOTLINK_ERR_BAD_RECORD', message: /kind 99 is not a record kind/ },
  { kind: 'fragment', code: 'SLOTLINK_ERR_BAD_RECORD', message: /continuation fragment arrived with no message started/ },
  { kind: 'messageBytes', code: 'SLOTLINK_ERR_BAD_RECORD', message: /messageBytes 2147483647 exceeds the maximum/ },
  { kind: 'readerMark', code: 'SLOTLINK_ERR_BAD_SLOT', message: /reader mark holds 7/ },
  // Regression (hardening #14): the spec's other rules, which the proxy did not check.
  { kind: 'stillWritable', code: 'SLOTLINK_ERR_BAD_SLOT', message: /reader mark is READABLE but writer mark is WRITABLE/ },
  { kind: 'cellReserved', code: 'SLOTLINK_ERR_BAD_SLOT', message: /header byte 28 is 173: bytes 20\.\.63 are reserved and must be zero/ },
  { kind: 'recordReserved', code: 'SLOTLINK_ERR_BAD_RECORD', message: /reserved bytes 7 and 20\.\.23 hold 5 and 0, must be zero/ },
  { kind: 'requestZero', code: 'SLOTLINK_ERR_BAD_RECORD', message: /requestId 0 on a REQUEST/ },
];

let round = 0;
for (const c of cases) {
  test(`garbage in a slot (${c.kind}) ends that registration with ${c.code} and nothing else`, async () => {
    const bad = await rig.worker(`bad-${c.kind.toLowerCase()}`);
    await bad.call('garbage', { kind: c.kind });
    const closed = await bad.waitFor((e) => e.event === 'close');
    assert.equal(closed.code, c.code);
    assert.match(String(closed.message), c.message);
    await rig.proxy.waitForLog((l) => l.includes('slot ended by proxy') && l.includes(c.code));
    // Everyone else goes on.
    const start = round++ * 1000;
    await a.call('send', { to: 'good-b', count: 1000, size: 80, start });
    const r = await b.call('collect', { count: start + 1000 });
    assert.deepEqual(r.bad, []);
    assert.equal((await a.call('request', { to: 'good-b', data: 'still there' })).reply, 'still there');
    await bad.kill();
  });
}
