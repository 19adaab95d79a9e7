import t from 'tap';
import { NameClaims } from '../../lib/cidata/name-claims.js';

t.test('first free variant wins; reserved and claimed names are never handed out twice', async (t) => {
  const claims = new NameClaims((n) => n.toUpperCase());
  claims.reserve('A~1');
  t.equal(
    claims.claim((n) => (n === 0 ? 'a' : `a~${n}`)),
    'a',
  );
  t.equal(
    claims.claim((n) => (n === 0 ? 'A' : `a~${n}`)),
    'a~2',
    'a~1 was reserved (keys ignore case)',
  );
  t.equal(
    claims.claim((n) => (n === 0 ? 'a' : `a~${n}`)),
    'a~3',
  );
  t.equal(
    claims.claim((n) => `b${n}`),
    'b0',
  );
});

t.test('thousands of collisions stay fast', async (t) => {
  const claims = new NameClaims();
  const start = performance.now();
  const names = Array.from({ length: 20_000 }, () => claims.claim((n) => `same${n}`));
  t.equal(new Set(names).size, 20_000);
  t.ok(performance.now() - start < 2000, 'linear, not quadratic');
});

t.test('gives up with SEED_TOO_LARGE when every variant is taken', async (t) => {
  const claims = new NameClaims();
  claims.reserve('x');
  t.throws(() => claims.claim(() => 'x'), { code: 'SEED_TOO_LARGE' });
});
