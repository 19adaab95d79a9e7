// virtiofsd is a process of its VM: a kernel guest with a virtiofs and a 9p mount, its launcher SIGKILLed, leaves
// no QEMU and no virtiofsd behind. (The tiny guest has no 9p/virtiofs modules: this is about the host side.)
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import t from 'tap';
import { alive, holdingTiny, pollUntil, processesMentioning, shortTempDir } from '../fixtures/guests.js';

t.setTimeout(180_000);

const launchModule = new URL('../../lib/guest/launch.ts', import.meta.url).href;

t.test('SIGKILL of the launcher: QEMU and every virtiofsd are gone', async (t) => {
  const base = shortTempDir(t);
  chmodSync(base, 0o755);
  for (const name of ['vf', 'p9']) mkdirSync(join(base, name), { mode: 0o755 });
  const input = {
    ...(await holdingTiny('x86_64')),
    mounts: [`${base}/vf:/vf:rw,type=virtiofs`, `${base}/p9:/p9:type=9p`],
  };
  const script = join(base, 'launcher.mts');
  writeFileSync(
    script,
    `import { launch } from ${JSON.stringify(launchModule)};
const vm = await launch(${JSON.stringify(input)});
console.log(vm.pid);
setInterval(() => {}, 1e9);
`,
  );
  const child = execa(process.execPath, [...process.execArgv, script], { reject: false });
  const pid = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    void child.then((r) => reject(new Error(`the launcher ended first: ${r.stderr}`)));
  });
  t.ok(alive(pid), 'QEMU runs');
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  t.ok(argv.includes('vhost-user-fs-pci,chardev=vfs-m0,tag=m0,id=m0-dev'), 'QEMU has the virtiofs device');
  t.ok(argv.includes('virtio-9p-pci,fsdev=fs-m1,mount_tag=m1,id=m1-dev'), 'and the 9p device');
  t.ok(processesMentioning(`source=${base}/vf`).length > 0, 'a virtiofsd serves the virtiofs mount');
  child.kill('SIGKILL');
  await child;
  t.ok(await pollUntil(() => !alive(pid), 10_000), 'QEMU is gone');
  t.ok(await pollUntil(() => processesMentioning(base).length === 0, 10_000), 'no virtiofsd is left');
});
