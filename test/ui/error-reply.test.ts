// Errors as the page shows them: the library's code, message and hint, with a status that says whose fault it is.

import t from 'tap';
import { ErrorCode, QlaunchError } from '../../lib/errors.js';
import { errorReply, statusOf } from '../../lib/ui/error-reply.js';

t.test('a QlaunchError keeps its code, message and hint', async (t) => {
  const error = new QlaunchError(ErrorCode.INSTANCE_NOT_FOUND, 'no instance named web', {
    hint: 'qlaunch ls',
  });
  t.same(errorReply(error), {
    status: 404,
    body: { code: 'INSTANCE_NOT_FOUND', message: 'no instance named web', hint: 'qlaunch ls' },
  });
});

t.test('statuses: the caller’s mistakes are 4xx, the machine’s 500', async (t) => {
  t.equal(statusOf('USAGE'), 400);
  t.equal(statusOf('INSTANCE_NAME_INVALID'), 400);
  t.equal(statusOf('UI_UNAUTHORIZED'), 401);
  t.equal(statusOf('UI_FORBIDDEN'), 403);
  t.equal(statusOf('UI_NOT_FOUND'), 404);
  t.equal(statusOf('UI_METHOD'), 405);
  t.equal(statusOf('INSTANCE_RUNNING'), 409);
  t.equal(statusOf('VM_START_FAILED'), 500);
});

t.test('an unexpected error says so, without its stack', async (t) => {
  const { status, body } = errorReply(new TypeError('x is undefined'));
  t.equal(status, 500);
  t.match(body, {
    code: 'UNEXPECTED',
    message: 'unexpected error: x is undefined',
    hint: /--log-level debug/,
  });
  t.notMatch(JSON.stringify(body), /at .*\.ts/);
});
