// `qlaunch image`: the base image store — pull, import, build, ls, inspect, rm. Thin: parse, call lib/image, print.

import type { Argv, CommandModule } from 'yargs';
import type { StoredImage } from '../../image/store.js';
import { printJson, reportError } from '../output.js';
import { buildCommand, importCommand } from './image-add.js';
import { formatImageDetails, formatImageTable } from './image-format.js';
import { pullCommand } from './image-pull.js';
import { warmCommand } from './image-warm.js';

type SetExit = (code: number) => void;

/** Catches a handler's error into an exit code, as every command does. */
const guarded =
  <A>(setExit: SetExit, run: (args: A) => Promise<void>) =>
  async (args: A): Promise<void> => {
    try {
      await run(args);
      setExit(0);
    } catch (error) {
      setExit(reportError(error));
    }
  };

/**
 * Why qlaunch would refuse the stored image now, or undefined. A warm image's layer names its base (qlaunch wrote
 * both): its record and that base are checked instead of the format inspector, which refuses backing files.
 */
async function problemOf(image: StoredImage): Promise<string | undefined> {
  if (image.origin === 'warm') {
    const { warmImageProblem } = await import('../../guest/warm/store.js');
    return warmImageProblem(image.dir);
  }
  const { storedDiskProblem } = await import('../../image/disk-check.js');
  return storedDiskProblem(image.path, image.format);
}

/** A warm image's record, and the lines `inspect` shows of it. */
async function warmFacts(dir: string) {
  const { readWarmRecord } = await import('../../guest/warm/restore.js');
  const record = await readWarmRecord(dir);
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  const lines: [string, string][] = [
    ['saved', record.saved],
    ['qemu', `${record.qemu.binary} ${record.qemu.version}, ${record.accel}`],
    [
      'machine',
      `${record.machineType}, CPU ${record.cpuModel}, ${record.cpus} vCPU, ${record.memoryMiB} MiB`,
    ],
    ['device state', mib(record.stateBytes)],
    ['saved RAM', `${mib(record.ramBytes)} (mapped copy-on-write by each clone)`],
    ['clone ports', record.ports && record.ports.length > 0 ? `22, ${record.ports.join(', ')}` : '22'],
  ];
  return { record, lines };
}

interface JsonArgs {
  json?: boolean | undefined;
}

const lsCommand = (setExit: SetExit): CommandModule<object, JsonArgs> => ({
  command: 'ls',
  aliases: ['list'],
  describe: 'list the stored images',
  builder: (y) =>
    y
      .option('json', { type: 'boolean', describe: 'print the images as JSON' })
      .example('$0 image ls', 'name, format, sizes, architecture, checksum and source of each')
      .example('$0 image ls --json', 'the same as JSON, for scripts'),
  handler: guarded(setExit, async (args) => {
    const { listImages, openImageStore } = await import('../../image/store.js');
    const { images, broken } = await listImages(openImageStore());
    for (const { name, problem } of broken) {
      process.stderr.write(
        `qlaunch: warning: image '${name}' is damaged (${problem}); qlaunch image rm ${name} removes it\n`,
      );
    }
    // Images stored before the format inspector existed (or changed since) are flagged: only headers are read.
    const checked = await Promise.all(
      images.map(async (image) => ({ ...image, problem: await problemOf(image) })),
    );
    for (const { name, problem } of checked) {
      if (problem === undefined) continue;
      process.stderr.write(
        `qlaunch: warning: image '${name}' would be refused now (${problem}); qlaunch image rm ${name} removes it\n`,
      );
    }
    // Damaged ones are listed too, with an error, as `ls` lists damaged instances.
    const listed = [...checked, ...broken.map(({ name, problem }) => ({ name, error: problem }))].sort(
      (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
    );
    if (args.json) printJson(listed);
    else process.stdout.write(formatImageTable(listed));
  }),
});

interface NameArgs extends JsonArgs {
  name: string;
}

const inspectCommand = (setExit: SetExit): CommandModule<object, NameArgs> => ({
  command: 'inspect <name>',
  describe:
    "show a stored image's record and what qemu-img says about it (format, size, backing chain), or why it is refused",
  builder: (y) =>
    y
      .positional('name', { type: 'string', demandOption: true })
      .option('json', { type: 'boolean', describe: 'print it all as JSON' }),
  handler: guarded(setExit, async (args) => {
    const { getImage, openImageStore } = await import('../../image/store.js');
    const { qemuImgInfo } = await import('../../image/qemu-img.js');
    const image = await getImage(openImageStore(), args.name);
    // A disk the format inspector refuses is not handed to qemu-img: opening it could read other host files.
    const problem = await problemOf(image);
    const info =
      problem === undefined
        ? await qemuImgInfo(image.path, { format: image.format, backingChain: true })
        : undefined;
    const warm = image.origin === 'warm' && problem === undefined ? await warmFacts(image.dir) : undefined;
    if (args.json) printJson({ ...image, problem, info, ...(warm && { warm: warm.record }) });
    else process.stdout.write(formatImageDetails(image, info, problem, warm?.lines));
  }),
});

const rmCommand = (setExit: SetExit): CommandModule<object, { name: string }> => ({
  command: 'rm <name>',
  aliases: ['remove'],
  describe: 'remove a stored image',
  builder: (y) => y.positional('name', { type: 'string', demandOption: true }),
  handler: guarded(setExit, async (args) => {
    const { openImageStore } = await import('../../image/store.js');
    const { removeUnusedImage } = await import('../../instance/usage.js');
    const removed = await removeUnusedImage(openImageStore(), args.name);
    process.stdout.write(`removed ${removed.name} (${removed.dir})\n`);
  }),
});

export const imageCommand = (setExit: SetExit): CommandModule => ({
  command: 'image <command>',
  describe: 'manage images: pull, import, build, warm, ls, inspect, rm',
  builder: (y: Argv) =>
    y
      .command(pullCommand(setExit))
      .command(importCommand(setExit))
      .command(buildCommand(setExit))
      .command(warmCommand(setExit))
      .command(lsCommand(setExit))
      .command(inspectCommand(setExit))
      .command(rmCommand(setExit))
      .demandCommand(1, 'say which image command to run; `qlaunch image --help` lists them'),
  handler: () => {},
});
