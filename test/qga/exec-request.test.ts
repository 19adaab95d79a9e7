import t from 'tap';
import { buildExecArgs, describeArgv } from '../../lib/qga/exec-request.js';

t.test('argv[0] is the path, the rest the arguments; output is always captured', async (t) => {
  t.same(buildExecArgs(['/bin/sh', '-c', 'echo hi']), {
    path: '/bin/sh',
    arg: ['-c', 'echo hi'],
    'capture-output': true,
  });
  t.same(buildExecArgs(['/bin/true']), { path: '/bin/true', arg: [], 'capture-output': true });
});

t.test('input goes base64 (strings as UTF-8), env as given', async (t) => {
  const args = buildExecArgs(['/bin/cat'], { input: 'héllo\n', env: ['A=1', 'PATH=/bin'] });
  t.equal(Buffer.from(args['input-data']!, 'base64').toString('utf8'), 'héllo\n');
  t.same(args.env, ['A=1', 'PATH=/bin']);
  const bytes = buildExecArgs(['/bin/cat'], { input: Buffer.of(0, 255, 10) });
  t.same([...Buffer.from(bytes['input-data']!, 'base64')], [0, 255, 10]);
  t.equal(buildExecArgs(['/bin/cat'], { input: '' })['input-data'], '');
  t.same(buildExecArgs(['/bin/env'], { env: [] }).env, []);
  t.equal(buildExecArgs(['/bin/cat'], { input: undefined, env: undefined })['input-data'], undefined);
});

t.test('what the agent cannot run is refused with QGA_ARGUMENT', async (t) => {
  const bad: Array<[unknown, unknown, RegExp]> = [
    [[], {}, /non-empty array/],
    ['ls', {}, /got string/],
    [[''], {}, /argv\[0\]` to name a program/],
    [['/bin/x', 3], {}, /argv\[1\]` to be a string/],
    [['/bin/x', 'a\0b'], {}, /NUL/],
    [['/bin/x'], { env: 'A=1' }, /`env` to be an array/],
    [['/bin/x'], { env: ['NOEQUALS'] }, /env\[0\]` to be NAME=value/],
    [['/bin/x'], { env: ['=x'] }, /NAME=value/],
    [['/bin/x'], { input: 42 }, /`input` to be a string or a Buffer/],
  ];
  for (const [argv, options, message] of bad) {
    t.throws(() => buildExecArgs(argv as string[], options as object), { code: 'QGA_ARGUMENT', message });
  }
});

t.test('describeArgv quotes odd words and shortens long ones', async (t) => {
  t.equal(describeArgv(['/usr/bin/uname', '-m']), '/usr/bin/uname -m');
  t.equal(describeArgv(['/bin/sh', '-c', 'echo hi']), '/bin/sh -c "echo hi"');
  const long = describeArgv(['/bin/sh', '-c', 'x'.repeat(200)]);
  t.ok(long.length <= 81 && long.endsWith('…'));
});
