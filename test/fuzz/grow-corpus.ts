/**
 * `npm run fuzz -- [TARGET] [SECONDS]`: fuzzes one decoder (or all) for longer and keeps the
 * inputs that reached new code in test/fuzz/corpus/, for `npm test` to start from.
 */
import { Random } from '../helpers/random.js';
import { CoverageFuzzer } from './coverage-fuzzer.js';
import { loadCorpus, saveToCorpus } from './corpus.js';
import { targets } from './targets.js';

const [only, secondsArg] = process.argv.slice(2);
const seconds = Number(secondsArg ?? 60);
const chosen = targets.filter((t) => !only || only === 'all' || t.name === only);
if (chosen.length === 0) {
  process.stderr.write(`unknown target "${only}": one of ${targets.map((t) => t.name).join(', ')}, or all\n`);
  process.exit(2);
}
let failed = false;
for (const target of chosen) {
  const seed = Date.now() % 0x7fffffff;
  const corpus = [...target.seeds(), ...loadCorpus(target.name)];
  const r = new CoverageFuzzer(target, new Random(seed)).run(corpus, seconds);
  const added = saveToCorpus(target.name, r.found);
  process.stdout.write(`${target.name}: ${r.execs} inputs in ${seconds} s (seed ${seed}), ${r.blocks} blocks, ${added} added to the corpus, ${r.findings.length} findings\n`);
  for (const f of r.findings.slice(0, 3)) process.stdout.write(`  ${f.error.split('\n')[0]}\n  input (hex): ${f.input.toString('hex')}\n`);
  failed ||= r.findings.length > 0;
}
process.exitCode = failed ? 1 : 0;
