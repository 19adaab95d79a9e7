import t from 'tap';
import {
  checkInstanceName,
  checkSocketPaths,
  INSTANCE_FILES,
  instancePaths,
  instancesRoot,
  networksDirFor,
} from '../../lib/instance/layout.js';
import { useEnv } from '../fixtures/guests.js';

t.test('instance names: safe as a directory and a host name', async (t) => {
  for (const good of ['dev', 'web-1', '0', 'a'.repeat(63)]) t.equal(checkInstanceName(good), good);
  for (const bad of ['../x', 'a b', 'Dev', '-x', '', 'a'.repeat(64), 'x/y', 'x.y', 'é', 'a'.repeat(200)]) {
    t.throws(() => checkInstanceName(bad), { code: 'INSTANCE_NAME_INVALID' }, bad);
  }
  const long = (() => {
    try {
      checkInstanceName('a'.repeat(200));
    } catch (error) {
      return (error as Error).message;
    }
    return '';
  })();
  t.match(long, /200 characters/, 'a very long name is shown cut, with its length');
});

t.test('paths: one directory per instance under the qlaunch home, file names from one table', async (t) => {
  t.equal(instancesRoot({ QLAUNCH_HOME: '/srv/q' }), '/srv/q/instances');
  t.equal(instancesRoot({ XDG_DATA_HOME: '/d', HOME: '/h' }), '/d/qlaunch/instances');
  const paths = instancePaths('dev', '/srv/q/instances');
  t.equal(paths.dir, '/srv/q/instances/dev');
  t.equal(paths.qmp, `/srv/q/instances/dev/${INSTANCE_FILES.qmp}`);
  t.equal(paths.config, '/srv/q/instances/dev/instance.json');
  t.throws(() => instancePaths('../etc', '/srv'), { code: 'INSTANCE_NAME_INVALID' });
});

t.test('socket paths over the OS limit are caught when the instance is made, with the fix', async (t) => {
  t.doesNotThrow(() => checkSocketPaths(instancePaths('dev', '/home/me/.local/share/qlaunch/instances')));
  const deep = `/${'d'.repeat(60)}/instances`;
  const error = t.throws(() => checkSocketPaths(instancePaths('a'.repeat(40), deep))) as Error & {
    hint?: string;
  };
  t.match(error, { code: 'INSTANCE_PATH_TOO_LONG' });
  t.match(error.message, /bytes; the OS allows 107/);
  t.match(error.hint, /shorter instance name.*QLAUNCH_HOME/);
});

t.test("networks are recorded beside the home's instances, or inside another root", async (t) => {
  useEnv(t, { QLAUNCH_HOME: '/srv/q' });
  t.equal(networksDirFor(), '/srv/q/networks');
  t.equal(networksDirFor('/srv/q/instances'), '/srv/q/networks');
  t.equal(networksDirFor('/srv/q/instances/'), '/srv/q/networks', 'the same root, written another way');
  t.equal(networksDirFor('/tmp/x'), '/tmp/x/.networks', 'a hidden name: never taken for an instance');
});
