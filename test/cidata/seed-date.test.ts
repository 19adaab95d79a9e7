import t from 'tap';
import { resolveSeedDate } from '../../lib/cidata/seed-date.js';

const NOW = new Date('2030-01-01T00:00:00Z');
const now = () => NOW;

t.test('explicit date, then SOURCE_DATE_EPOCH, then now', async (t) => {
  const date = new Date('2024-01-02T03:04:05Z');
  t.equal(resolveSeedDate(date, { SOURCE_DATE_EPOCH: '1' }, now), date);
  t.same(resolveSeedDate(undefined, { SOURCE_DATE_EPOCH: '1700000000' }, now), new Date(1_700_000_000_000));
  t.same(resolveSeedDate(undefined, { SOURCE_DATE_EPOCH: '0' }, now), new Date(0));
  t.equal(resolveSeedDate(undefined, {}, now), NOW);
  t.equal(resolveSeedDate(undefined, { SOURCE_DATE_EPOCH: '' }, now), NOW, 'empty means unset');
  t.ok(resolveSeedDate(undefined) instanceof Date, 'defaults to process.env and the clock');
});

t.test('invalid values are SEED_INVALID', async (t) => {
  for (const bad of ['-1', '1.5', 'soon', '1e9', ' 1', '9999999999999']) {
    t.throws(
      () => resolveSeedDate(undefined, { SOURCE_DATE_EPOCH: bad }, now),
      { code: 'SEED_INVALID' },
      bad,
    );
  }
  t.throws(() => resolveSeedDate(new Date('nope'), {}, now), { code: 'SEED_INVALID' });
  t.throws(() => resolveSeedDate('2024-01-01' as unknown as Date, {}, now), { code: 'SEED_INVALID' });
});
