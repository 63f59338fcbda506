/**
 * Coverage-guided fuzzing of the decoders of bytes others control (slot records and cells,
 * link frames, registration frames), briefly, from the corpus kept in the repository. Every
 * input must be decoded or refused with the decoder's own error; anything else is a finding,
 * printed with the input in hex. `npm run fuzz` runs longer and grows the corpus.
 * SLOTLINK_FUZZ_SECONDS sets the time per target; SLOTLINK_FUZZ_SEED repeats a run.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Random } from '../helpers/random.js';
import { CoverageFuzzer } from './coverage-fuzzer.js';
import { loadCorpus } from './corpus.js';
import { targets } from './targets.js';

const SECONDS = Number(process.env.SLOTLINK_FUZZ_SECONDS ?? 6);
const SEED = Number(process.env.SLOTLINK_FUZZ_SEED ?? Date.now() % 0x7fffffff);

for (const target of targets) {
  test(`coverage-guided fuzz of the ${target.name} decoder for ${SECONDS} s (seed ${SEED}): decoded or refused, nothing else`, { timeout: (SECONDS + 60) * 1000 }, () => {
    const corpus = [...target.seeds(), ...loadCorpus(target.name)];
    const r = new CoverageFuzzer(target, new Random(SEED)).run(corpus, SECONDS);
    console.log(`${target.name}: ${r.execs} inputs, ${corpus.length} from the corpus, ${r.found.length} new, ${r.blocks} blocks`);
    const first = r.findings[0];
    assert.equal(r.findings.length, 0, first && `${first.error}\ninput (hex): ${first.input.toString('hex')}`);
    assert.ok(r.execs > corpus.length, 'it ran');
  });
}
