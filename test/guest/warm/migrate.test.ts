// Saving device state from a QEMU that dropped to another user (root only): it reaches qlaunch's socket only when the
// socket and its directory are handed to that user; under a TMPDIR it cannot walk, the socket goes to /tmp.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { saveDeviceState } from '../../../lib/guest/warm/migrate.js';
import { userIds } from '../../../lib/host/run-as.js';
import { sandboxOption } from '../../../lib/qemu/confinement.js';
import { QmpClient } from '../../../lib/qmp/index.js';

t.setTimeout(120_000);

const root = process.getuid?.() === 0;

t.test(
  'a QEMU running as nobody under the sandbox saves its state into qlaunch’s socket',
  { skip: root ? false : 'QEMU drops its user only when started by root' },
  async (t) => {
    const nobody = await userIds('nobody');
    if (!nobody) throw new Error('this host has no nobody user');
    const dir = await mkdtemp(join(tmpdir(), 'qlaunch-migtest-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const qmpPath = join(dir, 'qmp.sock');
    const qemu = spawn(
      'qemu-system-x86_64',
      [
        ...['-nodefaults', '-display', 'none', '-machine', 'pc', '-m', '16', '-S'],
        ...['-qmp', `unix:${qmpPath},server=on,wait=off`],
        ...['-sandbox', sandboxOption('nobody'), '-runas', 'nobody'],
      ],
      { stdio: 'ignore' },
    );
    const exited = new Promise((resolve) => qemu.once('close', resolve));
    t.teardown(async () => {
      qemu.kill('SIGKILL');
      await exited;
    });
    const qmp = new QmpClient();
    for (let i = 0; ; i++) {
      try {
        await qmp.connect(qmpPath);
        break;
      } catch (error) {
        if (i > 100) throw error;
        await sleep(100);
      }
    }
    t.teardown(() => qmp.close());
    const status = await import('node:fs').then((fs) => fs.readFileSync(`/proc/${qemu.pid}/status`, 'utf8'));
    t.match(status, /^Seccomp:\s+2$/m, 'QEMU runs under its seccomp filter');
    t.match(status, new RegExp(`^Uid:\\s+${nobody.uid}\\s`, 'm'), 'QEMU runs as nobody');

    await t.rejects(
      saveDeviceState(qmp, join(dir, 'unowned.state')),
      { code: 'WARM_SAVE_FAILED', message: /Permission denied/ },
      "a socket in qlaunch's own 0700 directory is out of its reach",
    );

    const file = join(dir, 'owned.state');
    const bytes = await saveDeviceState(qmp, file, nobody);
    t.ok(bytes > 0, `the state was written (${bytes} bytes)`);
    const info = await stat(file);
    t.equal(info.size, bytes, 'all of it');
    t.equal(info.mode & 0o777, 0o600, 'the state file is private');
    t.equal(info.uid, 0, "the state file is qlaunch's, not QEMU's user's");
    // A migrated VM is left paused by it; QEMU migrates it again only once it has run.
    await qmp.execute('cont');
    await qmp.execute('stop');
    const walled = await mkdtemp(join(dir, 'private-'));
    const saved = process.env['TMPDIR'];
    process.env['TMPDIR'] = walled;
    const before = readdirSync('/tmp').filter((name) => name.startsWith('qlaunch-mig-'));
    try {
      // QEMU's user cannot walk into a private TMPDIR: the socket's directory goes to /tmp instead.
      const walledBytes = await saveDeviceState(qmp, join(dir, 'walled.state'), nobody);
      t.ok(walledBytes > 0, 'a private TMPDIR does not keep QEMU from the socket');
      t.same(
        readdirSync('/tmp').filter((name) => name.startsWith('qlaunch-mig-')),
        before,
        'and its directory in /tmp is gone after',
      );
    } finally {
      if (saved === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = saved;
    }
  },
);
