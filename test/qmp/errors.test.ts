import t from 'tap';
import { ErrorCode, isQlaunchError, QlaunchError } from '../../lib/errors.js';
import {
  QmpAbortedError,
  QmpArgumentError,
  QmpClosedError,
  QmpCommandError,
  QmpConnectError,
  QmpError,
  QmpGreetingError,
  QmpNegotiationError,
  QmpProtocolError,
  QmpStateError,
  QmpTimeoutError,
} from '../../lib/qmp/errors.js';

t.test('each QMP error has its name and code and is a QmpError and a QlaunchError', async (t) => {
  const cases: Array<[QmpError, string, string]> = [
    [new QmpConnectError('/p', 'ENOENT', 'm'), 'QmpConnectError', ErrorCode.QMP_CONNECT],
    [new QmpGreetingError('m'), 'QmpGreetingError', ErrorCode.QMP_GREETING],
    [new QmpNegotiationError('m'), 'QmpNegotiationError', ErrorCode.QMP_NEGOTIATION],
    [
      new QmpCommandError({ command: 'c', errorClass: 'GenericError', desc: 'd', id: 'i' }),
      'QmpCommandError',
      ErrorCode.QMP_EXECUTE,
    ],
    [new QmpClosedError('m'), 'QmpClosedError', ErrorCode.QMP_CLOSED],
    [new QmpProtocolError('m'), 'QmpProtocolError', ErrorCode.QMP_PROTOCOL],
    [new QmpTimeoutError('m'), 'QmpTimeoutError', ErrorCode.QMP_TIMEOUT],
    [new QmpAbortedError('m'), 'QmpAbortedError', ErrorCode.QMP_ABORTED],
    [new QmpStateError('m'), 'QmpStateError', ErrorCode.QMP_STATE],
    [new QmpArgumentError('m'), 'QmpArgumentError', ErrorCode.QMP_ARGUMENT],
  ];
  for (const [error, name, code] of cases) {
    t.equal(error.name, name);
    t.equal(error.code, code);
    t.ok(error instanceof QmpError && error instanceof QlaunchError && isQlaunchError(error, error.code));
  }
  t.equal(new QmpError(ErrorCode.QMP_PROTOCOL, 'base').name, 'QmpError');
});

t.test('QmpCommandError carries the reply and lets an explicit hint win', async (t) => {
  const cause = new Error('root');
  const e = new QmpCommandError(
    { command: 'device_del', errorClass: 'DeviceNotFound', desc: "Device 'x' not found", id: '__qmp#00004' },
    { hint: 'check the id', cause },
  );
  t.match(e, {
    command: 'device_del',
    errorClass: 'DeviceNotFound',
    desc: "Device 'x' not found",
    id: '__qmp#00004',
    message: "QMP command device_del failed: DeviceNotFound: Device 'x' not found",
    hint: 'check the id',
    cause,
  });
  const c = new QmpConnectError('/run/q.sock', undefined, 'm');
  t.equal(c.path, '/run/q.sock');
  t.equal(c.errno, undefined);
});
