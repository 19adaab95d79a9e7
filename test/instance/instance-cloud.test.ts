// A named instance of the Debian cloud image: exec through the guest agent, QMP, a runtime port forward,
// snapshots, a graceful stop that leaves a clean disk, and a restart that keeps the data.

import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import t from 'tap';
import { Instance } from '../../lib/instance/instance.js';
import { alive, cliPath, testHome } from '../fixtures/guests.js';

t.setTimeout(1_200_000);

const get = (port: number, path: string) =>
  new Promise<string>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve(body));
    })
      .on('error', reject)
      .end();
  });

const text = async (instance: Instance, script: string): Promise<string> => {
  const result = await instance.exec(['/bin/sh', '-c', script]);
  if (result.exitCode !== 0) throw new Error(`'${script}' exited ${result.exitCode}: ${result.stderr}`);
  return result.stdout.toString();
};

t.test('a Debian instance: agent exec, qmp, ports, snapshots, stop and start with its data', async (t) => {
  const saved = process.env['QLAUNCH_HOME'];
  process.env['QLAUNCH_HOME'] = await testHome();
  const home = process.env['QLAUNCH_HOME'];
  t.teardown(() => {
    if (saved === undefined) delete process.env['QLAUNCH_HOME'];
    else process.env['QLAUNCH_HOME'] = saved;
  });
  // Made and started by the CLI, whose processes end while the guest runs on; the library finds it again.
  const root = join(home, 'instances');
  const q = (args: string[]) =>
    execa(process.execPath, [cliPath, ...args], {
      reject: false,
      env: { ...process.env, QLAUNCH_HOME: home },
    });
  const name = `web-${process.pid}`;
  t.teardown(() => Instance.destroy(name, { root, force: true }).catch(() => {}));
  const created = await q([
    'create',
    name,
    '--image',
    'debian-12-local',
    '--cpus',
    '2',
    '--memory',
    '1G',
    '--accel',
    'tcg',
  ]);
  t.equal(created.exitCode, 0, created.stderr);
  const startedRun = await q(['start', name, '--json']);
  t.equal(startedRun.exitCode, 0, startedRun.stderr);
  const started = JSON.parse(startedRun.stdout) as {
    pid: number;
    ms: number;
    started: boolean;
    sshPort: number;
  };
  t.ok(started.started);
  t.ok(alive(started.pid), 'the guest outlives the CLI');
  t.comment(`ready (SSH + cloud-init) after ${(started.ms / 1000).toFixed(1)} s`);
  const listed = JSON.parse((await q(['ls', '--json'])).stdout) as {
    name: string;
    state: string;
    ports: unknown[];
  }[];
  t.match(
    listed.find((i) => i.name === name),
    { state: 'running', ports: [{ guestPort: 22, hostPort: started.sshPort, hostAddress: '127.0.0.1' }] },
  );
  const viaCli = await q(['exec', name, '--', 'sh', '-c', 'echo cli; exit 4']);
  t.equal(viaCli.exitCode, 4, 'exec passes the exit code through');
  t.equal(viaCli.stdout, 'cli', viaCli.stderr); // execa strips the final newline
  const viaSsh = await q(['ssh', name, '--', 'cat', '/etc/hostname']);
  t.equal(viaSsh.exitCode, 0, viaSsh.stderr);
  t.equal(viaSsh.stdout.trim(), name);
  const web = await Instance.open(name, { root });

  // The guest agent: output, exit codes, PATH lookup, no shell in between.
  const result = await web.exec(['/bin/sh', '-c', 'echo out; echo err >&2; exit 3']);
  t.equal(result.stdout.toString(), 'out\n');
  t.equal(result.stderr.toString(), 'err\n');
  t.equal(result.exitCode, 3);
  t.equal((await web.exec(['uname', '-m'])).stdout.toString(), 'x86_64\n');
  t.equal((await web.exec(['echo', "it's $HOME"])).stdout.toString(), "it's $HOME\n");
  t.match(await web.qmp('query-status'), { status: 'running', running: true });
  const ssh = await web.ssh();
  t.equal((await ssh.exec(['hostname'])).stdout.trim(), name);

  // A guest service reached through a forward added at runtime.
  await web.exec([
    'systemd-run',
    '--unit',
    'qlweb',
    'python3',
    '-m',
    'http.server',
    '8000',
    '--directory',
    '/etc',
  ]);
  const forward = await web.addPort(8000);
  let body = '';
  for (let i = 0; i < 40 && !body.includes(name); i++) {
    body = await get(forward.hostPort, '/hostname').catch(() => '');
    if (!body) await sleep(250);
  }
  t.equal(body.trim(), name, 'the forwarded port reaches the guest service');
  t.match((await web.info()).ports, [
    { guestPort: 8000, hostPort: forward.hostPort, hostAddress: '127.0.0.1' },
  ]);

  // Snapshot save → change a file → load → the file is back.
  await text(web, 'echo before > /var/tmp/state && sync');
  const saved1 = await web.saveSnapshot('base');
  t.ok(saved1.vmStateSize > 0, 'RAM and device state saved');
  await t.rejects(web.saveSnapshot('base'), { code: 'VM_SNAPSHOT_EXISTS' });
  await text(web, 'echo after > /var/tmp/state && sync');
  t.equal(await text(web, 'cat /var/tmp/state'), 'after\n');
  await web.loadSnapshot('base');
  t.equal(await text(web, 'cat /var/tmp/state'), 'before\n', 'the file is back');
  t.match(await web.listSnapshots(), [{ tag: 'base' }]);
  const snapshots = await q(['snapshot', 'ls', name, '--json']);
  t.match(JSON.parse(snapshots.stdout), [{ tag: 'base' }]);

  // A graceful stop; the next boot finds a clean file system and the data written before.
  await text(web, 'echo kept > /var/tmp/persist');
  const stopped = await q(['stop', name, '--json']);
  t.match(JSON.parse(stopped.stdout), { how: 'guest-shutdown', was: 'running' });
  t.notOk(alive(started.pid));
  t.match(await web.listSnapshots(), [{ tag: 'base' }], 'snapshots are listed from the stopped overlay');
  await t.rejects(web.loadSnapshot('base'), { code: 'VM_SNAPSHOT', message: /while the VM is stopped/ });
  const again = await web.start({ wait: 'agent' });
  t.equal(await text(web, 'cat /var/tmp/persist'), 'kept\n');
  t.notMatch(
    await text(web, 'dmesg'),
    /EXT4-fs \([a-z0-9]+\): (recovery complete|orphan cleanup)/,
    'no journal recovery',
  );
  await web.deleteSnapshot('base');
  t.same(await web.listSnapshots(), []);

  await web.remove({ force: true });
  t.notOk(alive(again.pid));
  t.notOk(existsSync(web.paths.dir));
});
