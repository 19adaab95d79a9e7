// `qlaunch run`: boot a throwaway guest in the foreground, show its console, exit when it powers off.

import { existsSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { ErrorCode, QlaunchError } from '../../errors.js';
import { secondsOption } from '../option-values.js';
import { cliLogger, EXIT, reportError, warnExposed } from '../output.js';
import { type GuestArgs, guestInput, guestOptions } from './guest-options.js';

// After Ctrl-C or a timeout the user wants the guest gone soon, not after the full power-off wait.
const STOP_SOON_MS = 10_000;

interface RunArgs extends GuestArgs {
  keep?: boolean | undefined;
  '--'?: (string | number)[] | undefined;
  kernel?: string | undefined;
  initrd?: string | undefined;
  append?: string | undefined;
  disk?: string[] | undefined;
  'wait-serial'?: string | undefined;
  timeout?: number | undefined;
  quiet?: boolean | undefined;
  'log-level'?: string | undefined;
  network?: string[] | undefined;
  hostname?: string | undefined;
  rootfs?: string | undefined;
  modules?: string | undefined;
}

export const runCommand = (setExit: (code: number) => void): CommandModule<object, RunArgs> => ({
  command: 'run [image]',
  describe:
    'boot a throwaway guest: IMAGE (a template, stored image or disk file) [-- COMMAND…] over SSH, or --kernel FILE in the foreground',
  builder: (y) =>
    guestOptions(y)
      .parserConfiguration({ 'populate--': true })
      .positional('image', {
        type: 'string',
        describe: 'template (qlaunch image ls, machines/), stored image or disk file',
      })
      .option('keep', { type: 'boolean', describe: 'keep the overlay, seed and key after the guest stops' })
      .option('kernel', { type: 'string', describe: 'kernel to boot directly (bzImage, vmlinux, Image)' })
      .option('initrd', { type: 'string', describe: 'initramfs for the kernel' })
      .option('rootfs', {
        type: 'string',
        describe:
          'with --kernel: boot on host directory DIR[:type=9p|virtiofs] (read-only, writes in tmpfs) and run -- COMMAND',
      })
      .option('modules', {
        type: 'string',
        describe: "with --rootfs: the kernel's modules tree (default: DIR/lib/modules/RELEASE)",
      })
      .option('append', { type: 'string', describe: 'kernel command line (console= is added when missing)' })
      .option('disk', {
        type: 'string',
        array: true,
        describe: 'disk image (raw or .qcow2) as a virtio disk',
      })
      .option('wait-serial', {
        type: 'string',
        describe: 'report ready when the console shows TEXT; fail if it never does',
      })
      .option('timeout', {
        type: 'number',
        describe: 'seconds: with IMAGE, to become ready (SSH + cloud-init); with --kernel, to power off',
        coerce: secondsOption('timeout', '300'),
      })
      .option('quiet', { type: 'boolean', alias: 'q', describe: 'do not copy the serial console to stdout' })
      .option('network', {
        type: 'string',
        array: true,
        describe:
          'with IMAGE: also join private:NET (an address and names there while the guest runs) or bridge:BR (a host bridge, DHCP)',
      })
      .option('hostname', {
        type: 'string',
        describe: "with IMAGE: the guest's host name, and its name on private networks",
      })
      .example(
        '$0 run debian-12 -- uname -a',
        'boot the debian-12 template, run one command over SSH, then discard it',
      )
      .example('$0 run ./disk.qcow2 --memory 2G', 'a shell in a guest booted from a disk file')
      .example(
        '$0 run --kernel bzImage --initrd initrd.img',
        'boot a kernel, its console on stdout until it powers off',
      )
      .example(
        '$0 run --kernel arch/x86/boot/bzImage --rootfs / -- uname -r',
        "run one command on a freshly built kernel over the host's own files; exit with its status",
      ),
  handler: async (args) =>
    setExit(args.image !== undefined || args.machine !== undefined ? await runImage(args) : await run(args)),
});

/** Stop on SIGINT/SIGTERM: `stop` is called once; the returned function removes the handlers. */
function onSignals(stop: (signal: NodeJS.Signals) => void): () => void {
  const handler = (signal: NodeJS.Signals) => stop(signal);
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

async function runImage(args: RunArgs): Promise<number> {
  if (args.kernel !== undefined || args.disk !== undefined) {
    return reportError(
      new QlaunchError(ErrorCode.USAGE, 'IMAGE and --kernel/--disk do not go together', {
        hint: 'boot an image (`qlaunch run debian-12-local`) or a kernel (`qlaunch run --kernel FILE`)',
      }),
    );
  }
  const { launch } = await import('../../guest/launch.js');
  const logger = await cliLogger(args['log-level']);
  const say = (line: string) => process.stderr.write(`qlaunch: ${line}\n`);
  const started = Date.now();
  const aborting = new AbortController();
  let signalled: NodeJS.Signals | undefined;
  const removeHandlers = onSignals((signal) => {
    signalled ??= signal;
    say(`${signal}: stopping`);
    aborting.abort(new QlaunchError(ErrorCode.VM_ABORTED, `interrupted by ${signal}`));
  });
  const exitFor = (signal: NodeJS.Signals) => (signal === 'SIGINT' ? 130 : 143);
  try {
    const { image, machine, ...input } = guestInput(args);
    const rest = { ...input, networks: args.network, hostname: args.hostname };
    const choice = image !== undefined ? { image, machine, ...rest } : { machine: machine ?? '', ...rest };
    const cloud = await launch(choice, {
      logger,
      onProgress: say,
      keep: args.keep,
      // A clone's command (or login) then rides the connection readiness made.
      sshMaster: true,
      signal: aborting.signal,
      readyTimeout: args.timeout === undefined ? undefined : args.timeout * 1000,
    });
    warnExposed(cloud.spec.network.forwards);
    aborting.signal.addEventListener('abort', () => void cloud.stop({ timeout: STOP_SOON_MS }), {
      once: true,
    });
    say(
      `ready after ${((Date.now() - started) / 1000).toFixed(1)} s (ssh -p ${cloud.ssh.target.port} ${cloud.ssh.target.user}@127.0.0.1)`,
    );
    const command = (args['--'] ?? []).map(String);
    let code: number;
    if (command.length > 0) {
      const result = await cloud.ssh.exec(command, { stdout: process.stdout, stderr: process.stderr });
      code = result.exitCode;
    } else {
      code = await cloud.ssh.interactive();
    }
    // A throwaway disk is deleted anyway: only a kept one is worth the guest's own shutdown.
    await cloud.stop({ force: !args.keep });
    if (args.keep) say(`kept the overlay, seed and key in ${cloud.dir}`);
    return signalled ? exitFor(signalled) : code;
  } catch (error) {
    if (signalled) return exitFor(signalled);
    return reportError(error);
  } finally {
    removeHandlers();
  }
}

type QcowDisk = { path: string; format: 'qcow2' };

/**
 * `--disk` files through the inspector `run FILE` uses: a qcow2 naming a backing or data file, a vmdk, … is refused
 * before QEMU sees it, and a qcow2 goes to QEMU as qcow2 whatever its name. (The library's `disks` are the
 * caller's own files, overlays included, as QEMU's own `-drive` takes them.) A missing file is left to launch's
 * own check, which says so.
 */
async function inspectedDisks(paths: string[] | undefined): Promise<(string | QcowDisk)[] | undefined> {
  if (paths === undefined) return undefined;
  const { requireOpenableImage } = await import('../../image/image-file.js');
  const disks: (string | QcowDisk)[] = [];
  for (const path of paths) {
    if (!existsSync(path)) disks.push(path);
    else {
      const { format } = await requireOpenableImage(path);
      disks.push(format === 'qcow2' ? { path, format } : path);
    }
  }
  return disks;
}

async function run(args: RunArgs): Promise<number> {
  if (args.network !== undefined || args.hostname !== undefined) {
    return reportError(
      new QlaunchError(ErrorCode.USAGE, '--network and --hostname are for images, not --kernel', {
        hint: 'a kernel guest sets its own addresses and name (e.g. on its command line); boot an image to have them set',
      }),
    );
  }
  const command = (args['--'] ?? []).map(String);
  if (args.rootfs === undefined && (command.length > 0 || args.modules !== undefined)) {
    return reportError(
      new QlaunchError(
        ErrorCode.USAGE,
        `${command.length > 0 ? '-- COMMAND' : '--modules'} with --kernel needs --rootfs`,
        {
          hint: 'boot on a host directory (e.g. --rootfs /) to run a command, or boot an IMAGE to run it over SSH',
        },
      ),
    );
  }
  if (args.rootfs !== undefined && command.length === 0) {
    return reportError(
      new QlaunchError(ErrorCode.USAGE, '--rootfs needs the command to run, after --', {
        hint: 'e.g. qlaunch run --kernel bzImage --rootfs / -- uname -r',
      }),
    );
  }
  const { launch } = await import('../../guest/launch.js');
  const logger = await cliLogger(args['log-level']);
  const started = Date.now();
  const timeoutMs = args.timeout === undefined ? undefined : args.timeout * 1000;
  let vm: Awaited<ReturnType<typeof launch>>;
  try {
    vm = await launch(
      {
        kernel: args.kernel,
        initrd: args.initrd,
        append: args.append,
        arch: args.arch,
        cpus: args.cpus,
        memory: args.memory,
        disks: await inspectedDisks(args.disk),
        forwards: args.port,
        accel: args.accel,
        firmware: args.firmware,
        mounts: args.mount,
        sandbox: args.sandbox,
        runAsRoot: args['run-as-root'],
        display: args.display,
        ...(args.rootfs !== undefined && { rootfs: args.rootfs, command, modulesDir: args.modules }),
      },
      { logger, onProgress: (line) => process.stderr.write(`qlaunch: ${line}\n`) },
    );
  } catch (error) {
    return reportError(error);
  }
  warnExposed(vm.spec.network.forwards);
  if (!args.quiet) vm.console.stream.pipe(process.stdout, { end: false });

  let outcome: number | undefined;
  const finish = async (code: number, error?: unknown) => {
    if (outcome !== undefined) return;
    outcome = code;
    if (error) reportError(error);
    await vm.stop({ timeout: STOP_SOON_MS });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\nqlaunch: ${signal}: stopping the guest\n`);
    void finish(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          void finish(
            EXIT.failure,
            new QlaunchError(
              ErrorCode.VM_TIMEOUT,
              `the guest was still running after ${args.timeout} s; stopped it`,
              {
                hint: `last console lines:\n${vm.console.tail(10)}`,
              },
            ),
          );
        }, timeoutMs);

  if (args['wait-serial'] !== undefined) {
    vm.waitForSerial(args['wait-serial']).then(
      () => process.stderr.write(`qlaunch: ready after ${((Date.now() - started) / 1000).toFixed(1)} s\n`),
      (error: unknown) => {
        const text = args['wait-serial'];
        const reason = vm.running
          ? error
          : new QlaunchError(ErrorCode.VM_EXITED, `the guest stopped before its console showed '${text}'`, {
              hint: `check the text to wait for; last console lines:\n${vm.console.tail(10)}`,
            });
        void finish(EXIT.failure, reason);
      },
    );
  }
  const exit = await vm.exited;
  clearTimeout(timer);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (outcome !== undefined) return outcome;
  if (args.rootfs !== undefined) {
    if (exit.commandExitCode !== undefined) return exit.commandExitCode;
    return reportError(
      new QlaunchError(ErrorCode.VM_EXITED, 'the guest ended before its command reported an exit status', {
        hint: `last console lines:\n${vm.console.tail(10)}`,
      }),
    );
  }
  if (exit.exitCode === 0) return EXIT.ok;
  const { describeExit } = await import('../../guest/process.js');
  return reportError(
    new QlaunchError(ErrorCode.VM_EXITED, `${describeExit(exit)}${exit.stderr ? `: ${exit.stderr}` : ''}`, {
      hint: `last console lines:\n${vm.console.tail(10)}`,
    }),
  );
}
