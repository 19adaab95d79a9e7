import t from 'tap';
import { ErrorCode, isQlaunchError, QlaunchError } from '../lib/errors.js';

t.test('QlaunchError carries code, hint and cause', async (t) => {
  const cause = new Error('root');
  const e = new QlaunchError(ErrorCode.USAGE, 'bad flag', { hint: 'use --help', cause });
  t.equal(e.code, 'USAGE');
  t.equal(e.hint, 'use --help');
  t.equal(e.cause, cause);
  t.ok(isQlaunchError(e));
  t.ok(isQlaunchError(e, ErrorCode.USAGE));
  t.notOk(isQlaunchError(e, ErrorCode.VM_EXITED));
  t.notOk(isQlaunchError(new Error('x')));
  t.equal(new QlaunchError(ErrorCode.USAGE, 'x').cause, undefined);
});
