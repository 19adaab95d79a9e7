#!/usr/bin/env node
// Benchmark: host directories in a guest. In one Debian guest, interleaved rounds of: read a 256 MiB file, and
// unpack a tar of 20,000 small files then `find | wc -l` the tree — over virtiofs, over 9p (msize 512 KiB), and
// copied in over SSH (`scp`, unpacked on the guest's own disk) as the baseline. Medians, MB/s, files/s, ratios.
// Run: npm run build && node scripts/bench/mount.mjs [rounds=3]   (QLAUNCH_HOME, or the test setup's
// QLAUNCH_TEST_HOME, must hold debian-12-local; a virtiofsd must be installed for the virtiofs column).

import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch } from '../../dist/lib/index.js';
import { median } from './compare.mjs';

const rounds = Number(process.argv[2] ?? 3);
const home = process.env.QLAUNCH_HOME ?? process.env.QLAUNCH_TEST_HOME;
if (!home) throw new Error('set QLAUNCH_HOME to a home whose store holds debian-12-local');
process.env.QLAUNCH_HOME = home;
// Smaller sizes for a quick look: QLAUNCH_BENCH_MIB, QLAUNCH_BENCH_FILES.
const BIG_MIB = Number(process.env.QLAUNCH_BENCH_MIB ?? 256);
const FILES = Number(process.env.QLAUNCH_BENCH_FILES ?? 20_000);

// The host side: one directory per transport, each with the big file and the tarball (the guest runs as root).
const work = mkdtempSync(join(tmpdir(), 'qlaunch-bench-mount-'));
chmodSync(work, 0o755);
const source = join(work, 'source');
mkdirSync(join(source, 'tree'), { recursive: true });
execFileSync('sh', ['-c', `head -c ${BIG_MIB}M /dev/urandom > "$1"`, 'sh', join(work, 'big')]);
for (let i = 0; i < FILES; i++) {
  const dir = join(source, 'tree', `d${Math.floor(i / 500)}`);
  if (i % 500 === 0) mkdirSync(dir);
  writeFileSync(join(dir, `f${i}.txt`), `file ${i}\n`.repeat(8));
}
execFileSync('tar', ['-cf', join(work, 'tree.tar'), '-C', source, 'tree']);
rmSync(source, { recursive: true });
const shares = { virtiofs: join(work, 'vf'), '9p': join(work, 'p9') };
for (const dir of Object.values(shares)) {
  mkdirSync(dir);
  chmodSync(dir, 0o777);
  execFileSync('cp', ['--reflink=auto', join(work, 'big'), join(work, 'tree.tar'), dir]);
}

const guest = await launch(
  {
    image: 'debian-12-local',
    cpus: 2,
    memory: '1G',
    accel: 'tcg',
    mounts: [
      { host: shares.virtiofs, guest: '/mnt/virtiofs', writable: true, type: 'virtiofs' },
      { host: shares['9p'], guest: '/mnt/9p', writable: true, type: '9p' },
    ],
  },
  { readyTimeout: 900_000, onProgress: (line) => console.error(line) },
);
console.error('ready');

// Timed in the guest (nanoseconds from its clock), after dropping its page cache so that reads cross the transport.
const TIMED =
  'sync; echo 3 > /proc/sys/vm/drop_caches; s=$(date +%s%N); eval "$1" >/dev/null; e=$(date +%s%N); echo $((e - s))';
async function timed(script) {
  console.error(`  ${script}`);
  const result = await guest.exec(['sh', '-c', TIMED, 'sh', script], { timeout: 900_000 });
  if (result.exitCode !== 0) throw new Error(`${script}: ${result.stderr.toString()}`);
  return Number(result.stdout.toString().trim()) / 1e9;
}

// scp into the guest's disk: the baseline a user without mounts would take.
const { target } = guest.ssh;
const scp = (file) =>
  execFileSync('scp', [
    '-q',
    '-F',
    'none',
    '-i',
    target.privateKey,
    '-P',
    String(target.port),
    '-o',
    `UserKnownHostsFile=${target.knownHostsFile}`,
    '-o',
    'StrictHostKeyChecking=accept-new',
    file,
    `${target.user}@${target.host}:/tmp/`,
  ]);

const results = {
  virtiofs: { read: [], tree: [] },
  '9p': { read: [], tree: [] },
  scp: { read: [], tree: [] },
};
try {
  for (let round = 1; round <= rounds; round++) {
    for (const transport of ['virtiofs', '9p']) {
      const dir = `/mnt/${transport}`;
      results[transport].read.push(await timed(`cat ${dir}/big`));
      await guest.exec(['rm', '-rf', `${dir}/tree`]);
      results[transport].tree.push(
        await timed(`tar -xf ${dir}/tree.tar -C ${dir} && find ${dir}/tree | wc -l`),
      );
    }
    const began = performance.now();
    scp(join(work, 'big'));
    results.scp.read.push((performance.now() - began) / 1000);
    await guest.exec(['rm', '-rf', '/tmp/tree', '/tmp/big']);
    const treeBegan = performance.now();
    scp(join(work, 'tree.tar'));
    const copied = (performance.now() - treeBegan) / 1000;
    results.scp.tree.push(copied + (await timed('tar -xf /tmp/tree.tar -C /tmp && find /tmp/tree | wc -l')));
    await guest.exec(['rm', '-f', '/tmp/tree.tar']);
    console.error(`round ${round}/${rounds} done`);
  }
} finally {
  await guest[Symbol.asyncDispose]();
  rmSync(work, { recursive: true, force: true });
}

const rows = Object.entries(results).map(([transport, { read, tree }]) => ({
  transport,
  read: median(read),
  tree: median(tree),
}));
const scpRow = rows.find((row) => row.transport === 'scp');
console.log(
  `${rounds} interleaved rounds, medians (${BIG_MIB} MiB file; ${FILES} small files unpacked + find)`,
);
console.log('transport   read MB/s   tree files/s   read ×scp   tree ×scp');
for (const row of rows) {
  const mbps = (BIG_MIB * 1.048576) / row.read;
  const files = FILES / row.tree;
  console.log(
    `${row.transport.padEnd(10)}  ${mbps.toFixed(1).padStart(9)}   ${files.toFixed(0).padStart(12)}   ${(scpRow.read / row.read).toFixed(2).padStart(9)}   ${(scpRow.tree / row.tree).toFixed(2).padStart(9)}`,
  );
}
