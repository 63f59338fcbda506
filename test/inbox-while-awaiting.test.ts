/**
 * An endpoint whose unread messages passed its bound stopped reading its slot altogether,
 * so the answer to a request it then sent could not reach it (it timed out). While it waits
 * for answers it reads regardless; otherwise the bound holds its senders back as before.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from '../src/client/connect.js';
import { Rig } from './helpers/rig.js';

test('an endpoint with a full inbox still gets the answer to its request', { timeout: 30_000 }, async () => {
  const rig = await Rig.start(['--cells', '2', '--cell-bytes', '4096']);
  try {
    const busy = await connect({ name: 'busy', socket: rig.socket, maxInboxBytes: 1024 });
    const chatty = await connect({ name: 'chatty', socket: rig.socket });
    const echo = await connect({ name: 'echo', socket: rig.socket });
    echo.respond((m) => m.data);
    // Far more than the bound, never iterated: busy stops reading its slot.
    const sends = Array.from({ length: 200 }, (_, i) => chatty.send('busy', Buffer.alloc(512, i)));
    while (!busy.stats().readingPaused) await new Promise((r) => setTimeout(r, 5));
    assert.equal((await busy.request('echo', 'still there?', { timeout: 5000 })).toString(), 'still there?');
    // Taking the messages lets the rest arrive, in order.
    let n = 0;
    for await (const m of busy) {
      assert.equal(m.data[0], n++ & 0xff);
      if (n === 200) break;
    }
    await Promise.all(sends);
    await Promise.all([busy.close(), chatty.close(), echo.close()]);
  } finally {
    await rig.close();
  }
});
