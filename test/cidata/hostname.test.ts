import t from 'tap';
import { checkHostname, hostnameProblem } from '../../lib/cidata/hostname.js';

t.test('host names by RFC 1123 labels', async (t) => {
  for (const good of [
    'web',
    'web-1',
    'a.b.c',
    'x'.repeat(63),
    `${'a'.repeat(63)}.${'b'.repeat(63)}`,
    '1host',
  ]) {
    t.equal(hostnameProblem(good), undefined, good);
  }
  t.match(hostnameProblem('a..b'), /empty label/);
  t.match(hostnameProblem('.a'), /empty label/);
  t.match(hostnameProblem('x'.repeat(200)), /200 characters long \(at most 63\)/);
  t.match(hostnameProblem('bad name!'), /holds more than letters/);
  t.match(hostnameProblem('-a'), /holds more than/);
  t.match(hostnameProblem('a-'), /holds more than/);
  t.match(hostnameProblem(`${'a.'.repeat(127)}ab`), /256 characters long \(at most 253\)/);
  t.match(hostnameProblem(''), /empty/);
  t.throws(() => checkHostname('a..b'), { code: 'SEED_INVALID', hint: /dot-separated labels/ });
  t.equal(checkHostname('ok.lab'), 'ok.lab');
});
