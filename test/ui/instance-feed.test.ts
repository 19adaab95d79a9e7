// Which file changes make the page's list be read again: state files and instance directories, not disk or logs.

import t from 'tap';
import { changesList } from '../../lib/ui/instance-feed.js';

t.test('state files and instance directories count; disks and logs do not', async (t) => {
  t.ok(changesList('web'), 'an instance directory came or went');
  t.ok(changesList('web/qemu.pid'));
  t.ok(changesList('web/runtime.json'));
  t.ok(changesList('web/instance.json'));
  t.ok(changesList(null), 'the watcher could not say');
  t.notOk(changesList('web/disk.qcow2'));
  t.notOk(changesList('web/console.log'));
  t.notOk(changesList('web/qemu.log'));
});
