// Hostile disk images for the format inspector's end-to-end tests: each one would make QEMU read a host file
// other than itself (a canary with known bytes, a FIFO, a device) or is a format qlaunch does not open. Made with
// real qemu-img where it can make them, by hand where it cannot.

import {
  closeSync,
  constants,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';

/** The canary's bytes: a marker repeated to 1 MiB, so a vmdk extent of 2048 sectors can name it. */
export const CANARY_MARK = 'QLAUNCH-CANARY-4c1e9b27:';
const CANARY_SIZE = 1024 * 1024;

export interface HostileImage {
  /** A short name, also a valid image name. */
  name: string;
  path: string;
  /** The format qemu-img probes it as (what a store made without the inspector recorded). */
  probed: string;
  /** What the refusal says about it. */
  problem: RegExp;
}

export interface HostileSet {
  canary: string;
  fifo: string;
  images: HostileImage[];
}

const qemuImg = (args: string[]) => execa('qemu-img', args);

/** A qcow2 whose external data file is `target` (made with a scratch data file, then pointed at it). */
async function qcow2WithDataFile(dir: string, name: string, target: string): Promise<string> {
  const path = join(dir, `${name}.qcow2`);
  const scratch = join(dir, `${name}.scratch-data`);
  await qemuImg(['create', '-q', '-f', 'qcow2', '-o', `data_file=${scratch},data_file_raw=on`, path, '1M']);
  // amend only rewrites the name in the header; the target is never opened.
  await qemuImg(['amend', '-q', '-f', 'qcow2', '-o', `data_file=${target}`, path]);
  rmSync(scratch, { force: true });
  return path;
}

async function created(dir: string, name: string, format: string, extra: string[] = []): Promise<string> {
  const path = join(dir, `${name}.${format}`);
  for (let attempt = 1; ; attempt++) {
    try {
      await qemuImg(['create', '-q', ...extra, '-f', format, path, '16M']);
      return path;
    } catch (error) {
      // LUKS times its key derivation by the thread's CPU clock, which here reads no time passed in about a third of runs.
      const flake = /Unable to get accurate CPU usage/.test((error as { stderr?: string }).stderr ?? '');
      if (!flake || attempt === 10) throw error;
    }
  }
}

const html =
  '<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>Not Found</body></html>\n';

/** Makes every hostile image in `dir` (and the canary and FIFO they point at). */
export async function makeHostileImages(dir: string): Promise<HostileSet> {
  mkdirSync(dir, { recursive: true });
  const canary = join(dir, 'canary.bin');
  writeFileSync(
    canary,
    CANARY_MARK.repeat(Math.ceil(CANARY_SIZE / CANARY_MARK.length)).slice(0, CANARY_SIZE),
  );
  const fifo = join(dir, 'data.fifo');
  // One left by a run that was killed before its teardown would make mkfifo fail.
  rmSync(fifo, { force: true });
  await execa('mkfifo', [fifo]);
  const flatVmdk = join(dir, 'flat.vmdk');
  writeFileSync(
    flatVmdk,
    '# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType="monolithicFlat"\n' +
      `RW ${CANARY_SIZE / 512} FLAT "${canary}" 0\n`,
  );
  const backing = join(dir, 'backing.qcow2');
  await qemuImg(['create', '-q', '-f', 'qcow2', '-b', canary, '-F', 'raw', backing]);
  const page = join(dir, 'page.html');
  writeFileSync(page, html.repeat(64).slice(0, 4096));
  const padded = join(dir, 'padded.html');
  writeFileSync(padded, Buffer.concat([Buffer.from(html), Buffer.alloc(4096 - html.length)]));
  const images: HostileImage[] = [
    { name: 'qcow2-backing', path: backing, probed: 'qcow2', problem: /it is an overlay on .*canary\.bin/ },
    {
      name: 'qcow2-data-file',
      path: await qcow2WithDataFile(dir, 'data-file', canary),
      probed: 'qcow2',
      problem: /it keeps its data in another file \(.*canary\.bin\)/,
    },
    {
      name: 'qcow2-data-fifo',
      path: await qcow2WithDataFile(dir, 'data-fifo', fifo),
      probed: 'qcow2',
      problem: /it keeps its data in another file \(.*data\.fifo\)/,
    },
    {
      name: 'qcow2-data-device',
      path: await qcow2WithDataFile(dir, 'data-device', '/dev/zero'),
      probed: 'qcow2',
      problem: /it keeps its data in another file \(\/dev\/zero\)/,
    },
    {
      name: 'vmdk-flat',
      path: flatVmdk,
      probed: 'vmdk',
      problem: /it is a vmdk descriptor, which can make QEMU/,
    },
    {
      name: 'vmdk-sparse',
      path: await created(dir, 'sparse', 'vmdk'),
      probed: 'vmdk',
      problem: /it is a vmdk image/,
    },
    { name: 'vhdx', path: await created(dir, 'x', 'vhdx'), probed: 'vhdx', problem: /it is a vhdx image/ },
    { name: 'vpc', path: await created(dir, 'x', 'vpc'), probed: 'vpc', problem: /it is a vpc image, / },
    {
      name: 'vpc-fixed',
      path: await created(dir, 'fixed', 'vpc', ['-o', 'subformat=fixed']),
      probed: 'raw',
      problem: /it is a vpc image \(by its footer\)/,
    },
    { name: 'qed', path: await created(dir, 'x', 'qed'), probed: 'qed', problem: /it is a qed image/ },
    {
      name: 'qcow-v1',
      path: await created(dir, 'x', 'qcow'),
      probed: 'qcow',
      problem: /it is a qcow \(version 1\) image/,
    },
    { name: 'vdi', path: await created(dir, 'x', 'vdi'), probed: 'vdi', problem: /it is a vdi image/ },
    {
      name: 'parallels',
      path: await created(dir, 'x', 'parallels'),
      probed: 'parallels',
      problem: /it is a parallels image/,
    },
    {
      name: 'luks',
      // A short key derivation: LUKS otherwise spends seconds benchmarking it.
      path: await created(dir, 'x', 'luks', [
        '--object',
        'secret,id=s0,data=x',
        '-o',
        'key-secret=s0,iter-time=10',
      ]),
      probed: 'luks',
      problem: /it is a luks image, which is encrypted/,
    },
    { name: 'html', path: page, probed: 'raw', problem: /it starts with text, not a disk/ },
    { name: 'html-padded', path: padded, probed: 'raw', problem: /it starts with text, not a disk/ },
  ];
  return { canary, fifo, images };
}

/**
 * Unblocks whatever waits to read `fifo` (a tool that opened it as a data file): a writer opens it and closes
 * at once, so the reader sees the end of the file. Nothing waits when the inspector did its job.
 */
export function releaseFifo(fifo: string): void {
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {}
}

/** Every regular file below `roots` (missing roots are skipped). */
function filesUnder(roots: readonly string[]): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (lstatSync(path).isFile()) found.push(path);
    }
  };
  for (const root of roots) {
    try {
      walk(root);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return found;
}

/**
 * The files below `roots` through which the canary's bytes can be read: holding them, or opened by qemu-img the
 * careless way (its format probed, backing and data files followed), as a guest's QEMU would open them.
 */
export async function canaryReaders(roots: readonly string[], scratch: string): Promise<string[]> {
  const readers: string[] = [];
  mkdirSync(scratch, { recursive: true });
  for (const [i, file] of filesUnder(roots).entries()) {
    if (readFileSync(file).includes(CANARY_MARK)) {
      readers.push(file);
      continue;
    }
    const out = join(scratch, `read-${i}.raw`);
    // A timeout: a file whose data file is a FIFO would block the read for ever.
    const run = await execa('qemu-img', ['convert', '-U', '-O', 'raw', file, out], {
      reject: false,
      timeout: 10_000,
    });
    if (run.exitCode === 0 && readFileSync(out).includes(CANARY_MARK)) readers.push(file);
    rmSync(out, { force: true });
  }
  return readers;
}
