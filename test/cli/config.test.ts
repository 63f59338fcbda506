/** Config files: YAML or JSON, flags override them, and bad files are refused naming the key. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI_PATH, startProxyProcess } from '../../src/cli/proxy-process.js';
import { connect } from '../../src/client/connect.js';

const dir = mkdtempSync(join(os.tmpdir(), 'slotlink-config-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function refused(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  const r = spawnSync(process.execPath, [CLI_PATH, 'proxy', '--socket', join(dir, 'never.sock'), '--config', file], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 1, r.stderr);
  return r.stderr;
}

test('a YAML config file sets the proxy up; flags override it', { timeout: 30_000 }, async () => {
  const file = join(dir, 'proxy.yaml');
  writeFileSync(file, 'node: from-yaml\nmaxSlots: 1\ncells: 4\ncellBytes: 4096\nlogFormat: json\n');
  const p = await startProxyProcess(join(dir, 'yaml.sock'), ['--config', file, '--node', 'from-flag']);
  try {
    const ep = await connect({ name: 'only', socket: p.socket });
    assert.equal(ep.node, 'from-flag', 'the flag overrides the file');
    assert.equal(ep.slot.layout.cellCount, 4, 'cells from the file');
    assert.equal(ep.slot.layout.cellDataBytes, 4096);
    await assert.rejects(connect({ name: 'second', socket: p.socket }), { code: 'SLOTLINK_ERR_PROXY_FULL' }, 'maxSlots from the file');
    await ep.close();
  } finally {
    await p.stop();
  }
});

test('bad config files are refused with the key and what is wrong', () => {
  assert.match(refused('a.yaml', 'maxSlotz: 3\n'), /config "maxSlotz": unknown key; known keys: socket, node/);
  assert.match(refused('b.yaml', 'cells: many\n'), /config "cells": expected a whole number in 2\.\.256, got "many"/);
  assert.match(refused('c.yaml', 'cells: 1\n'), /config "cells": expected a whole number in 2\.\.256, got 1/);
  assert.match(refused('d.yaml', 'peer: {beta: 1}\n'), /config "peer": .* is not valid here \(a list of NODE=HOST:PORT strings\)/);
  assert.match(refused('e.yaml', 'node: [\n'), /cannot read it as YAML/);
  assert.match(refused('f.json', '{"node": 1,}'), /cannot read it as JSON/);
  assert.match(refused('g.yaml', '- a\n- b\n'), /the file must hold a mapping/);
  assert.match(refused('h.yaml', 'listen: 127.0.0.1:0\n'), /links need --secret-file/);
});
