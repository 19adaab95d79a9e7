// Words in the commands hints give: a real shell reads each back as exactly the word, running nothing.

import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import t from 'tap';
import { shellWord } from '../lib/shell-word.js';

const words = fc.string({
  unit: fc.constantFrom(...'ab/._-:,= \'"$()`\\;&|*?~!#\n\té日'),
  minLength: 1,
  maxLength: 24,
});

t.test('sh reads every word back unchanged, and plain ones stay bare', async (t) => {
  t.equal(shellWord('/srv/images/a-1.qcow2'), '/srv/images/a-1.qcow2');
  t.equal(shellWord("a b's"), `'a b'\\''s'`);
  const sample = fc.sample(words, { numRuns: 60, seed: 7 });
  const script = `for w in ${sample.map(shellWord).join(' ')}; do printf '%s\\0' "$w"; done`;
  const out = execFileSync('sh', ['-c', script], { encoding: 'utf8' });
  t.same(out.split('\0').slice(0, -1), sample);
});
