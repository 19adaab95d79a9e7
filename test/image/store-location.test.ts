import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import t from 'tap';
import { imageStoreDir, qlaunchHome } from '../../lib/image/store-location.js';

t.test('QLAUNCH_HOME, then XDG_DATA_HOME, then ~/.local/share', async (t) => {
  t.equal(qlaunchHome({ QLAUNCH_HOME: '/q', XDG_DATA_HOME: '/xdg', HOME: '/h' }), '/q');
  t.equal(qlaunchHome({ QLAUNCH_HOME: 'rel' }), resolve('rel'), 'relative to the cwd');
  t.equal(qlaunchHome({ XDG_DATA_HOME: '/xdg', HOME: '/h' }), '/xdg/qlaunch');
  t.equal(
    qlaunchHome({ XDG_DATA_HOME: 'relative', HOME: '/h' }),
    '/h/.local/share/qlaunch',
    'a relative XDG dir is ignored',
  );
  t.equal(qlaunchHome({ QLAUNCH_HOME: '', HOME: '/h' }), '/h/.local/share/qlaunch');
  t.equal(qlaunchHome({}), join(homedir(), '.local/share/qlaunch'));
  t.equal(imageStoreDir({ QLAUNCH_HOME: '/q' }), '/q/images');
  t.equal(imageStoreDir({ ...process.env, QLAUNCH_HOME: '/p' }), '/p/images');
});
