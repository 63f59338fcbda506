/** A request across the link whose receiver dies before answering fails at once, by name. */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connect } from '../../src/client/connect.js';
import { Mesh } from '../helpers/mesh.js';

let mesh: Mesh;
before(async () => {
  mesh = await Mesh.start();
});
after(() => mesh.close());

test('the receiving proxy fails the requests a dead process held, back across the link', { timeout: 60_000 }, async () => {
  const silent = await mesh.worker('beta', 'silent'); // reads requests, never answers
  const asker = await connect({ name: 'asker', socket: mesh.socket('alpha') });
  try {
    const outcomes = [1, 2, 3].map((i) => asker.request('silent@beta', `question ${i}`, { timeout: 30_000 }).then(() => null, (err: { code: string; message: string }) => err));
    assert.equal((await silent.call('collect', { count: 3 })).received, 3, 'the requests reached the process');
    await silent.kill();
    for (const err of await Promise.all(outcomes)) {
      assert.ok(err, 'the request was not answered');
      assert.equal(err.code, 'SLOTLINK_ERR_RECEIVER_GONE', `rejected with ${err.code}: ${err.message}`);
      assert.match(err.message, /"silent~\d+\.\d+@beta" went away before answering/);
    }
  } finally {
    await asker.close();
  }
});
