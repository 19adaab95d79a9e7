import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { buildMetaData } from '../../lib/cidata/cloud-config.js';
import { writeSeedImage } from '../../lib/cidata/seed.js';
import { locateQemu } from '../../lib/host/binaries.js';
import { createOverlay } from '../../lib/image/qemu-img.js';
import type { Logger } from '../../lib/logger.js';
import { GuestAgent, waitForAgent } from '../../lib/qga/index.js';
import { debianImage, shortTempDir } from '../fixtures/guests.js';

t.setTimeout(600_000);

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once('exit', () => resolve()));

t.test('the Debian test image: boot, wait for the agent, run commands through it', async (t) => {
  const image = await debianImage('x86_64');
  const dir = shortTempDir(t);
  const overlay = join(dir, 'disk.qcow2');
  const seed = join(dir, 'seed.iso');
  const socket = join(dir, 'qga.sock');
  await createOverlay(image.image, 'qcow2', overlay);
  await writeSeedImage(
    seed,
    { files: { 'meta-data': buildMetaData({ hostname: 'qga-test' }), 'user-data': '#cloud-config\n{}\n' } },
    { durable: false },
  );
  // Raw QEMU: the agent channel exactly as qlaunch's argv builder will add it.
  const argv = [
    ...['-accel', 'tcg,thread=multi', '-cpu', 'max', '-machine', 'q35', '-smp', '2', '-m', '1024'],
    ...['-nodefaults', '-display', 'none', '-no-user-config'],
    ...['-kernel', image.kernel, '-initrd', image.initrd, '-append', image.append],
    ...['-drive', `file=${overlay},format=qcow2,if=virtio`],
    ...['-drive', `file=${seed},format=raw,if=virtio,readonly=on`],
    ...['-chardev', `socket,id=qga0,path=${socket},server=on,wait=off`],
    ...['-device', 'virtio-serial-pci,id=vser0'],
    ...['-device', 'virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0'],
    ...['-serial', `file:${join(dir, 'console.log')}`],
  ];
  const booted = Date.now();
  const qemu = spawn(await locateQemu('x86_64'), argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  qemu.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  t.teardown(async () => {
    qemu.kill('SIGKILL');
    await exited(qemu);
  });
  const alive = () => qemu.exitCode === null && qemu.signalCode === null;

  // Counts the status polls exec() sends, to see where its latency goes.
  let polls = 0;
  const logger: Logger = {
    trace: (fields) => {
      if (String((fields as { line?: unknown }).line).includes('"guest-exec-status"')) polls++;
    },
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: () => {},
    child: () => logger,
  };
  const agent = await waitForAgent(socket, { deadline: Date.now() + 480_000, alive, logger }).catch(
    (error) => {
      throw new Error(`no agent (QEMU stderr: ${stderr.trim() || 'empty'})`, { cause: error });
    },
  );
  const readyMs = Date.now() - booted;
  t.comment(`boot to agent ready: ${(readyMs / 1000).toFixed(1)} s`);

  const info = await agent.info();
  t.match(info.version, /^\d+\.\d+/);
  t.ok(info.supported_commands.some((c) => c.name === 'guest-exec' && c.enabled));

  const shell = await agent.exec(['/bin/sh', '-c', 'echo out; echo err >&2; exit 3']);
  t.equal(shell.stdout.toString(), 'out\n');
  t.equal(shell.stderr.toString(), 'err\n');
  t.equal(shell.exitCode, 3);
  t.equal(shell.truncated, false);

  const uname = await agent.exec(['/usr/bin/uname', '-m']);
  t.equal(uname.stdout.toString(), 'x86_64\n');
  t.equal(uname.exitCode, 0);

  await t.rejects(agent.exec(['/usr/bin/no-such-program', 'x']), {
    code: 'QGA_EXECUTE',
    message: /could not run \/usr\/bin\/no-such-program x: .*No such file or directory/,
  });

  const bytes = Buffer.concat([Buffer.from('héllo wörld\n'), Buffer.of(0, 1, 0xfe, 0xff, 0x0a)]);
  const cat = await agent.exec(['/bin/cat'], { input: bytes });
  t.same(cat.stdout, bytes, 'stdin round trip through cat, binary bytes included');

  const env = await agent.exec(['/usr/bin/env'], { env: ['QLAUNCH_TEST=1', 'PATH=/usr/bin:/bin'] });
  t.equal(env.stdout.toString(), 'QLAUNCH_TEST=1\nPATH=/usr/bin:/bin\n');

  const killed = await agent.exec(['/bin/sh', '-c', 'kill -TERM $$']);
  t.match(killed, { exitCode: 143, signal: 15 });

  // Past the agent's 16 MiB capture limit: flagged, and the long base64 line fits the default line cap.
  const bigAt = Date.now();
  const big = await agent.exec(['/usr/bin/head', '-c', String(17 * 1024 * 1024), '/dev/zero']);
  t.comment(`17 MiB of output (16 MiB kept): ${((Date.now() - bigAt) / 1000).toFixed(1)} s`);
  t.equal(big.truncated, true);
  t.equal(big.stdout.length, 16 * 1024 * 1024);

  // Only one client at a time: QEMU does not serve a second connection, so its sync times out.
  await t.rejects(GuestAgent.connect(socket, { timeout: 3000 }), {
    code: 'QGA_TIMEOUT',
    hint: /one client at a time/,
  });

  const execMs: number[] = [];
  polls = 0;
  for (let i = 0; i < 10; i++) {
    const start = performance.now();
    t.equal((await agent.exec(['/bin/true'])).exitCode, 0);
    execMs.push(performance.now() - start);
  }
  const pingMs: number[] = [];
  for (let i = 0; i < 10; i++) {
    const start = performance.now();
    await agent.ping();
    pingMs.push(performance.now() - start);
  }
  t.comment(
    `exec /bin/true: median ${median(execMs).toFixed(0)} ms (${execMs.map(Math.round).join(' ')}), ${polls / 10} status polls each`,
  );
  t.comment(`guest-ping round trip: median ${median(pingMs).toFixed(1)} ms`);
  await agent.close();

  // A client that left half a request behind: the next one's 0xFF + sync still gets a clean session.
  await new Promise<void>((resolve, reject) => {
    const raw = net.createConnection(socket, () => {
      raw.write('{"execute": "guest-exec", "arguments": {"path": "/bin/tr');
      setTimeout(() => {
        raw.destroy();
        resolve();
      }, 200);
    });
    raw.on('error', reject);
  });
  const againAt = Date.now();
  const again = await GuestAgent.connect(socket, { timeout: 30_000 });
  t.comment(`connect + sync after a client left half a request: ${Date.now() - againAt} ms`);
  const hostname = await again.exec(['/bin/hostname']);
  t.equal(hostname.stdout.toString(), 'qga-test\n', 'the seed was read, and the session is clean');

  const shutdownAt = Date.now();
  await again.shutdown();
  await again.close();
  await exited(qemu);
  t.comment(`guest-shutdown to QEMU exit: ${((Date.now() - shutdownAt) / 1000).toFixed(1)} s`);
  t.equal(qemu.exitCode, 0, 'the guest powered off');
});
