/**
 * The packed package installs and runs on linux-x64 with no compiler: `npm pack` (its
 * prepack builds the prebuilt addon), then `npm install` of the tarball into a fresh
 * directory with a PATH holding only node, npm, npx and sh, then `npx slotlink demo` there.
 * Also the install layout the systemd unit expects: `npm install --global --prefix
 * /opt/slotlink` puts the command where deploy/slotlink.service's ExecStart looks.
 *
 * The pack runs in a copy of this checkout: packing rebuilds build/ and dist/, which the
 * tests running beside this one are loading. Dependencies come from npm's cache, which
 * `npm ci` filled (--prefer-offline; the registry only for what is missing).
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { basename, join, relative } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { COMPILER_TOOLS, operatorEnv, pathWithoutCompiler, run, which } from '../helpers/npm.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(os.tmpdir(), 'slotlink-pack-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Everything `npm pack` reads, without what it builds (build/, dist/, prebuilds/) or tests. */
function copyCheckout(to: string): void {
  const skip = new Set(['node_modules', '.git', 'build', 'dist', 'prebuilds', 'test']);
  cpSync(ROOT, to, {
    recursive: true,
    filter: (src) => {
      const rel = relative(ROOT, src);
      return !skip.has(rel.split('/')[0]!) && !rel.endsWith('.tgz');
    },
  });
  // prepack and prepare run prebuildify, tsc and node-addon-api from here.
  symlinkSync(join(ROOT, 'node_modules'), join(to, 'node_modules'));
}

test('npm pack builds a package that installs with no compiler and runs the demo', { timeout: 300_000 }, async () => {
  const source = join(dir, 'source');
  copyCheckout(source);
  const packed = await run('npm', ['pack', '--pack-destination', dir], { cwd: source, env: operatorEnv() });
  assert.equal(packed.code, 0, `npm pack failed:\n${packed.out}`);
  const tarballs = readdirSync(dir).filter((f) => f.endsWith('.tgz'));
  assert.equal(tarballs.length, 1, `one tarball from npm pack: ${tarballs.join(', ')}`);
  const tarball = join(dir, tarballs[0]!);

  // A machine without a compiler: the fallback compile cannot happen, so the install
  // succeeds only if the prebuilt binary loads.
  const path = pathWithoutCompiler(join(dir, 'bin'));
  for (const tool of COMPILER_TOOLS) assert.equal(which(tool, path), null, `${tool} is hidden`);
  assert.equal(which('node', path), join(path, 'node'), 'the check finds what is there');
  const env = operatorEnv(path);

  const app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  const installed = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: app, env });
  assert.equal(installed.code, 0, `npm install of the tarball failed:\n${installed.out}`);

  const pkgDir = join(app, 'node_modules', 'slotlink');
  assert.ok(existsSync(join(pkgDir, 'prebuilds', 'linux-x64', 'slotlink.glibc.node')), 'the prebuilt addon is in the package');
  assert.ok(!existsSync(join(pkgDir, 'build')), 'nothing was compiled at install');
  const resolved = await run('node', ['-p', `require('node-gyp-build').path(${JSON.stringify(pkgDir)})`], { cwd: app, env });
  assert.equal(resolved.out.trim(), join(pkgDir, 'prebuilds', 'linux-x64', 'slotlink.glibc.node'), 'the loader picks the prebuilt addon');

  const demo = await run('npx', ['slotlink', 'demo', '--seconds', '1', '--workers', '2'], { cwd: app, env });
  assert.equal(demo.code, 0, `npx slotlink demo failed:\n${demo.out}`);
  const sent = Number(demo.out.match(/messages sent ([\d,]+)/)?.[1]?.replace(/,/g, ''));
  assert.ok(sent > 0, `the demo sent messages:\n${demo.out}`);
  assert.match(demo.out, new RegExp(`received ${sent.toLocaleString()}, lost 0, out of order or corrupt 0`));
  assert.match(demo.out, /connections: 1 between the proxies/);

  // The layout deploy/slotlink.service runs: a global install under /opt/slotlink (here
  // under the temp directory, standing for /).
  const exec = readFileSync(join(ROOT, 'deploy', 'slotlink.service'), 'utf8').match(/^ExecStart=(\S+)/m)?.[1];
  assert.ok(exec?.startsWith('/opt/slotlink/'), `ExecStart names the /opt/slotlink install: ${exec}`);
  const fakeRoot = join(dir, 'root');
  const global = await run('npm', ['install', '--global', '--prefix', join(fakeRoot, 'opt', 'slotlink'), '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: dir, env });
  assert.equal(global.code, 0, `npm install --global --prefix failed:\n${global.out}`);
  const help = await run(join(fakeRoot, exec!), ['proxy', '--help'], { cwd: dir, env });
  assert.equal(help.code, 0, `${exec} proxy --help failed:\n${help.out}`);
  assert.match(help.out, /^Usage: slotlink proxy/m);
  assert.equal(basename(exec!), 'slotlink');
});
