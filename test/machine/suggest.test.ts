import t from 'tap';
import { closestNames, didYouMean, editDistance } from '../../lib/machine/suggest.js';

t.test('edit distance counts a swap of neighbours as one edit', async (t) => {
  t.equal(editDistance('memory', 'memory'), 0);
  t.equal(editDistance('memroy', 'memory'), 1);
  t.equal(editDistance('cpu', 'cpus'), 1);
  t.equal(editDistance('', 'abc'), 3);
  t.equal(editDistance('kitten', 'sitting'), 3);
});

t.test('closest names: near misses and prefixes, best first', async (t) => {
  const names = ['debian-12', 'debian-12-local', 'fedora', 'ubuntu-24.04', 'alpine'];
  t.same(closestNames('debain-12', names), ['debian-12']);
  t.same(closestNames('debian', names), ['debian-12', 'debian-12-local']);
  t.same(closestNames('Fedora', names), ['fedora']);
  t.same(closestNames('windows', names), []);
  t.same(
    closestNames('a', ['b', 'c', 'd', 'e'], 2),
    ['b', 'c'],
    'one letter is one edit from any other: limited',
  );
  t.equal(didYouMean('memroy', ['memory', 'cpus']), "did you mean 'memory'?");
  t.equal(didYouMean('debian', names), "did you mean 'debian-12' or 'debian-12-local'?");
  t.equal(
    didYouMean('alpin', ['alpine', 'alpina', 'alpino']),
    "did you mean 'alpina', 'alpine' or 'alpino'?",
  );
  t.equal(didYouMean('zzz', names), '');
});
