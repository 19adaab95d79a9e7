// The reaper of an attached QEMU: when the process that spawned it is SIGKILLed, the directories it was given go
// too (a throwaway run's overlay, seed and key), whatever their names. A `sleep` stands in for QEMU here; the real
// QEMU case is in test/guest/warm/store.test.ts (three clones, their launcher SIGKILLed).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { alive, pollUntil, shortTempDir } from '../fixtures/guests.js';

const processModule = new URL('../../lib/guest/process.ts', import.meta.url).href;

t.test('SIGKILL of the launcher: the reaper removes the run directories, odd names and all', async (t) => {
  const base = shortTempDir(t);
  const dirs = [join(base, 'run one'), join(base, '-rf'), join(base, "it's $HOME")];
  for (const dir of dirs) {
    mkdirSync(dir);
    writeFileSync(join(dir, 'overlay.qcow2'), 'x');
  }
  const kept = join(base, 'kept');
  mkdirSync(kept);
  const script = join(base, 'launcher.mts');
  writeFileSync(
    script,
    `import { spawnQemu } from ${JSON.stringify(processModule)};
const qemu = await spawnQemu({ file: 'sleep', args: ['1000'] }, { mode: 'attached', removeOnDeath: ${JSON.stringify(dirs)} });
console.log(qemu.pid);
setInterval(() => {}, 1e9);
`,
  );
  const child = execa(process.execPath, [...process.execArgv, script], { reject: false });
  const pid = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    child.on('exit', () => reject(new Error('the launcher ended first')));
  });
  t.ok(alive(pid), 'the stand-in QEMU runs');
  child.kill('SIGKILL');
  await child;
  t.ok(await pollUntil(() => !dirs.some((d) => existsSync(d)), 10_000), 'every run directory is gone');
  t.ok(existsSync(kept), 'nothing else is touched');
  t.ok(existsSync(base));
});

t.test(
  'a QEMU that exits on its own takes its reaper along, and the directories stay for their owner',
  async (t) => {
    const { spawnQemu } = await import('../../lib/guest/process.js');
    const dir = join(shortTempDir(t), 'run');
    mkdirSync(dir);
    const qemu = await spawnQemu({ file: 'true', args: [] }, { mode: 'attached', removeOnDeath: [dir] });
    await qemu.exited;
    await new Promise((r) => setTimeout(r, 200));
    t.ok(existsSync(dir), 'the owner removes them, not the reaper');
  },
);
