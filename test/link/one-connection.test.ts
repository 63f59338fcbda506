/** Both proxies dial each other at the same moment: a fixed rule keeps one connection. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mesh, tcpConnections } from '../helpers/mesh.js';

test('when both proxies dial at once, exactly one connection stays and carries the traffic', { timeout: 60_000 }, async () => {
  const mesh = await Mesh.start({ bothDial: true });
  try {
    const a = await mesh.worker('alpha', 'left', { echo: true });
    const b = await mesh.worker('beta', 'right', { echo: true });
    // Traffic both ways proves the surviving connection works in both directions.
    assert.equal((await a.call('request', { to: 'right@beta', data: 'hi' })).reply, 'hi');
    assert.equal((await b.call('request', { to: 'left@alpha', data: 'ho' })).reply, 'ho');
    const [sa, sb] = await Promise.all([mesh.status('alpha'), mesh.status('beta')]);
    const la = sa.links[0]!.status;
    const lb = sb.links[0]!.status;
    assert.equal(la.state, 'up');
    assert.equal(lb.state, 'up');
    // Both sides use the same connection: one dialed it, the other accepted it. (When both
    // dials complete, the one dialed by "alpha", which sorts first, is kept; when one side's
    // link is up before its own dial starts, it does not dial at all.)
    assert.ok(la.state === 'up' && lb.state === 'up' && la.outbound !== lb.outbound);
    const duplicates = [...mesh.alpha.logs, ...mesh.beta.logs].filter((l) => l.includes('duplicate connection'));
    if (duplicates.length > 0) assert.equal(la.state === 'up' && la.outbound, true, 'the duplicate refused was beta\'s, so alpha\'s was kept');
    const accepted = [mesh.alphaPort, mesh.betaPort].flatMap((port) => tcpConnections(port).filter((c) => c.local === port));
    assert.equal(accepted.length, 1, `one connection between the proxies, on either listening port (${JSON.stringify(accepted)})`);
  } finally {
    await mesh.close();
  }
});
