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
    // "alpha" sorts first, so the connection alpha dialed is the one kept, on both sides.
    assert.equal(la.state === 'up' && la.outbound, true);
    assert.equal(lb.state === 'up' && lb.outbound, false);
    const between = tcpConnections(mesh.betaPort).filter((c) => c.local === mesh.betaPort);
    assert.equal(between.length, 1, 'one connection to beta\'s port');
    const alphaPort = tcpConnections(mesh.betaPort).find((c) => c.remote === mesh.betaPort);
    assert.ok(alphaPort);
  } finally {
    await mesh.close();
  }
});
