/**
 * The layers of src/ only point down, and no module imports itself round a cycle:
 * util (with errors, log, native) → slot → contract → link → proxy → client → cli, then the
 * package's entry. Type-only imports count: a cycle of types is a tangle all the same.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const LAYERS = ['util', 'slot', 'contract', 'link', 'proxy', 'client', 'cli', 'entry'] as const;

/** The layer of a module, by its folder (files at the top: errors and log are util, index is the entry). */
function layerOf(file: string): number {
  const rel = relative(SRC, file);
  const top = rel.includes('/') ? rel.slice(0, rel.indexOf('/')) : rel;
  const layer = top === 'native' || top === 'errors.ts' || top === 'log.ts' ? 'util' : top === 'index.ts' ? 'entry' : top;
  const rank = (LAYERS as readonly string[]).indexOf(layer);
  assert.ok(rank >= 0, `${rel} is in no layer: put it in one of ${LAYERS.join(', ')}`);
  return rank;
}

function modules(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? modules(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The src/ modules a module imports (static, dynamic, type-only). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)].map((m) => m[1]!);
  return specs.map((s) => resolve(dirname(file), s).replace(/\.js$/, '.ts'));
}

const files = modules(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => t.startsWith(SRC))]));

test('every import in src/ points to the same layer or one below', () => {
  const upward: string[] = [];
  for (const [from, targets] of graph) {
    for (const to of targets) if (layerOf(to) > layerOf(from)) upward.push(`${relative(SRC, from)} (${LAYERS[layerOf(from)]}) imports ${relative(SRC, to)} (${LAYERS[layerOf(to)]})`);
  }
  assert.deepEqual(upward, []);
});

test('no import cycle in src/', () => {
  const cycles: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 'visiting');
    path.push(f);
    for (const t of graph.get(f) ?? []) {
      if (state.get(t) === 'visiting') cycles.push([...path.slice(path.indexOf(t)), t].map((x) => relative(SRC, x)).join(' → '));
      else if (!state.has(t)) visit(t);
    }
    path.pop();
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  assert.deepEqual(cycles, []);
});
