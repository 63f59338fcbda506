/**
 * What `npm pack` puts in the package: what a user needs (the compiled code and its types,
 * the addon's sources and binding.gyp for the compile fallback, docs, deploy/, README,
 * LICENSE), nothing else (no tests, no TypeScript sources, no source maps, no build output),
 * and no shipped module that imports a file left out.
 *
 * The list comes from `npm pack --dry-run --ignore-scripts` on this checkout, so nothing is
 * built here; the prebuilt addon is added by `prepack`, which the install test runs for real.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { operatorEnv } from '../helpers/npm.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function packedFiles(): string[] {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, env: operatorEnv(), encoding: 'utf8' });
  assert.equal(r.status, 0, `npm pack --dry-run failed:\n${r.stdout}\n${r.stderr}`);
  const [pack] = JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>;
  return pack!.files.map((f) => f.path).sort();
}

function walk(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

const files = packedFiles();
const shipped = new Set(files);

test('the package holds the compiled code with its types, the addon sources, docs, deploy/, README and LICENSE', () => {
  const sources = walk('src').filter((f) => f.endsWith('.ts'));
  assert.ok(sources.length > 10, 'src/ was found');
  const needed = [
    'package.json',
    'README.md',
    'LICENSE',
    'binding.gyp',
    ...walk('native'),
    ...walk('docs'),
    ...walk('deploy'),
    ...sources.flatMap((ts) => [`dist/${ts.replace(/\.ts$/, '.js')}`, `dist/${ts.replace(/\.ts$/, '.d.ts')}`]),
  ];
  const missing = needed.filter((f) => !shipped.has(f));
  assert.deepEqual(missing, [], `left out of the package: ${missing.join(', ')}`);

  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { license: string; bin: Record<string, string>; main: string; types: string };
  for (const entry of [...Object.values(pkg.bin), pkg.main, pkg.types]) assert.ok(shipped.has(posix.normalize(entry)), `${entry} (named in package.json) is in the package`);
  assert.equal(pkg.license, 'MIT');
  assert.match(readFileSync(join(ROOT, 'LICENSE'), 'utf8'), /^MIT License\n/);
});

test('the package holds no tests, TypeScript sources, source maps or build output', () => {
  const unwanted = files.filter(
    (f) =>
      /^(test|bench|src|build|node_modules|\.ci)\//.test(f) ||
      f.startsWith('dist/test/') ||
      f.endsWith('.map') ||
      (f.endsWith('.ts') && !f.endsWith('.d.ts')) ||
      f.endsWith('.tgz'),
  );
  assert.deepEqual(unwanted, [], `should not be in the package: ${unwanted.join(', ')}`);
});

test('every relative import of a shipped module names a shipped file', () => {
  // Static and dynamic imports, and files found with new URL('./x.js', import.meta.url)
  // (the demo's worker, `slotlink bench`'s dist/bench/link.js). A bare directory URL (the
  // addon loader's package root) is not a file.
  const reference = /(?:\bfrom\s*|\bimport\s*\(\s*|\bnew URL\(\s*)['"](\.{1,2}\/[^'"]*[^/'"])['"]/g;
  const broken: string[] = [];
  let seen = 0;
  for (const file of files.filter((f) => f.endsWith('.js'))) {
    for (const m of readFileSync(join(ROOT, file), 'utf8').matchAll(reference)) {
      seen++;
      const target = relative(ROOT, join(ROOT, dirname(file), m[1]!));
      if (!shipped.has(target)) broken.push(`${file} -> ${m[1]} (${target})`);
    }
  }
  assert.ok(seen > 50, `imports were found (${seen})`);
  assert.deepEqual(broken, [], `shipped modules import files that are not shipped:\n${broken.join('\n')}`);
});
