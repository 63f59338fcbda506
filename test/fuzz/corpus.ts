/** The fuzz corpus kept in the repository: test/fuzz/corpus/<target>/<sha1 prefix>, one input per file. */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inputName } from './coverage-fuzzer.js';

/** dist/test/fuzz/corpus.js -> test/fuzz/corpus in the checkout. */
const ROOT = fileURLToPath(new URL('../../../test/fuzz/corpus/', import.meta.url));

export function loadCorpus(target: string): Buffer[] {
  const dir = join(ROOT, target);
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().map((f) => readFileSync(join(dir, f)));
}

/** Saves inputs not yet in the corpus; returns how many were new. */
export function saveToCorpus(target: string, inputs: Buffer[]): number {
  const dir = join(ROOT, target);
  mkdirSync(dir, { recursive: true });
  let added = 0;
  for (const input of inputs) {
    const file = join(dir, inputName(input));
    if (existsSync(file)) continue;
    writeFileSync(file, input);
    added++;
  }
  return added;
}
