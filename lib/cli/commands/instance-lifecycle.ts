// `create`, `start`, `stop`, `restart`, `rm`: an instance's lifecycle, each a thin layer over `Instance`.

import type { Argv, CommandModule } from 'yargs';
import { describeWait, parseWait } from '../../instance/wait-option.js';
import { checked, secondsOption } from '../option-values.js';
import { printJson, reportError, warnExposed } from '../output.js';
import { type GuestArgs, guestInput, guestOptions } from './guest-options.js';
import { type InstanceArgs, instanceOptions, say, seconds, withInstance } from './instance-common.js';

interface CreateArgs extends InstanceArgs, GuestArgs {
  network?: string[] | undefined;
  start?: boolean | undefined;
}

interface StartArgs extends InstanceArgs {
  wait?: string | undefined;
  timeout?: number | undefined;
  repin?: boolean | undefined;
}

interface StopArgs extends InstanceArgs {
  timeout?: number | undefined;
  force?: boolean | undefined;
}

const nameArg = <T>(y: Argv<T>) =>
  y.positional('name', { type: 'string', demandOption: true, describe: 'instance name' });

const waitOptions = <T>(y: Argv<T>) =>
  y
    .option('wait', {
      type: 'string',
      describe:
        'ready when: none, ssh, cloud-init, agent or serial:TEXT (default: the machine’s, cloud-init for images)',
      // Checked here, so that `create --wait bogus` fails before it makes anything.
      coerce: checked(parseWait),
    })
    .option('timeout', {
      type: 'number',
      describe: 'seconds to wait for ready (default 300 under TCG, 120 under KVM)',
      coerce: secondsOption('timeout', '300'),
    });

const jsonOption = <T>(y: Argv<T>) =>
  y.option('json', { type: 'boolean', describe: 'print the result as JSON' });

async function startInstance(
  instance: import('../../instance/instance.js').Instance,
  args: StartArgs,
): Promise<number> {
  const wait = args.wait === undefined ? undefined : parseWait(args.wait);
  const before = instance.config.machineType?.name;
  const result = await instance.start({
    wait,
    timeout: seconds(args.timeout),
    repin: args.repin,
    onProgress: say,
  });
  const after = instance.config.machineType?.name;
  if (args.repin && before !== undefined && after !== before) {
    say(
      `${instance.name} re-pinned from machine type ${before} to ${after}: snapshots saved on ${before} no longer load`,
    );
  }
  if (result.started) warnExposed(instance.config.ports);
  if (args.json) printJson({ name: instance.name, ...result });
  else {
    const what = result.started ? 'started' : 'already running';
    const ssh = result.sshPort === undefined ? '' : `; ssh: qlaunch ssh ${instance.name}`;
    say(
      `${instance.name} ${what} (pid ${result.pid}), ready (${describeWait(wait ?? instance.config.readiness)}) after ${(result.ms / 1000).toFixed(1)} s${ssh}`,
    );
  }
  return 0;
}

export const createCommand = (setExit: (code: number) => void): CommandModule<object, CreateArgs> => ({
  command: 'create <name>',
  describe: 'make a named instance from an image or machine file (then `qlaunch start NAME`)',
  builder: (y) =>
    jsonOption(
      waitOptions(
        guestOptions(nameArg(y))
          .option('image', {
            type: 'string',
            describe: 'template, stored image (a warm one too: its first start restores it) or disk file',
          })
          .option('network', {
            type: 'string',
            array: true,
            describe:
              'also join private:NET, an L2 network shared with other instances on it, or bridge:BR, a host bridge (DHCP)',
          })
          .option('start', { type: 'boolean', describe: 'start it right away' })
          .example(
            '$0 create web --image debian-12 --port 8080:80',
            'an instance from a template; host port 8080 to its 80',
          )
          .example(
            '$0 create db --image my-image --memory 2G --cpus 2 --start',
            'from a stored image, started at once',
          ),
      ),
    ),
  handler: async (args) => {
    try {
      const { Instance } = await import('../../instance/instance.js');
      // A start says it itself; an instance made now and started later says it at create too.
      if (!args.start) {
        const [{ confinementWarnings }, { runningAsRoot }] = await Promise.all([
          import('../../qemu/confinement.js'),
          import('../../host/run-as.js'),
        ]);
        const choice = { sandbox: args.sandbox, runAsRoot: args['run-as-root'] };
        for (const line of confinementWarnings(choice, runningAsRoot())) say(line);
      }
      const instance = await Instance.create(
        { ...guestInput(args), name: args.name, networks: args.network },
        { ...(await instanceOptions(args)), onProgress: say },
      );
      if (!args.start) warnExposed(instance.config.ports);
      if (args.start) return setExit(await startInstance(instance, { ...args, json: args.json }));
      if (args.json) printJson(await instance.info());
      else
        say(
          `created ${instance.name} (${instance.config.arch}); start it with: qlaunch start ${instance.name}`,
        );
      setExit(0);
    } catch (error) {
      setExit(reportError(error));
    }
  },
});

export const startCommand = (setExit: (code: number) => void): CommandModule<object, StartArgs> => ({
  command: 'start <name>',
  describe: 'boot an instance in the background; it keeps running after this command exits',
  builder: (y) =>
    jsonOption(waitOptions(nameArg(y)))
      .option('repin', {
        type: 'boolean',
        describe:
          'move an instance whose machine type this QEMU no longer offers to the current one (its internal snapshots then no longer load)',
      })
      .example(
        '$0 start web',
        'boot it in the background; back when it is ready (cloud-init done, for an image)',
      )
      .example('$0 start web --wait ssh --timeout 600', 'ready as soon as SSH answers; allow ten minutes'),
  handler: async (args) => setExit(await withInstance(args, (instance) => startInstance(instance, args))),
});

const stopOptions = <T>(y: Argv<T>) =>
  y
    .option('timeout', {
      type: 'number',
      describe: 'seconds the guest gets to power off before QEMU is told to quit (default 60)',
      coerce: secondsOption('timeout', '60', true),
    })
    .option('force', { type: 'boolean', describe: 'do not ask the guest: quit QEMU at once' });

export const stopCommand = (setExit: (code: number) => void): CommandModule<object, StopArgs> => ({
  command: 'stop <name>',
  describe: 'power an instance off: ACPI shutdown, then quit, then kill',
  builder: (y) => jsonOption(stopOptions(nameArg(y))),
  handler: async (args) =>
    setExit(
      await withInstance(args, async (instance) => {
        const result = await instance.stop({ timeout: seconds(args.timeout), force: args.force });
        if (args.json) printJson({ name: instance.name, ...result });
        else if (result.how) say(`${instance.name} stopped (${result.how})`);
        else
          say(
            `${instance.name} was not running${result.was === 'crashed' ? ' (it had crashed; cleaned up)' : ''}`,
          );
        if (result.how === undefined || result.how === 'guest-shutdown' || args.force) return 0;
        // Not asked to force it, the guest was cut off: say so, and fail, as data may be lost.
        process.stderr.write(`qlaunch: ${hardStopWarning(instance.name, result.how)}\n`);
        return 1;
      }),
    ),
});

const ENDED_BY = {
  quit: 'told QEMU to quit',
  terminated: 'sent QEMU SIGTERM',
  killed: 'killed QEMU (SIGKILL)',
};

/** What a stop that had to end QEMU itself tells the user (pure). */
export const hardStopWarning = (name: string, how: keyof typeof ENDED_BY): string =>
  `the guest of ${name} did not power off when asked, so qlaunch ${ENDED_BY[how]}: data the guest had not ` +
  `written to its disk may be lost\n  fix: look at \`qlaunch logs ${name}\`; \`qlaunch stop --force ${name}\` ` +
  'ends a guest at once without this error';

export const restartCommand = (
  setExit: (code: number) => void,
): CommandModule<object, StartArgs & StopArgs> => ({
  command: 'restart <name>',
  describe: 'stop, then start an instance',
  builder: (y) =>
    jsonOption(
      waitOptions(nameArg(y)).option('force', {
        type: 'boolean',
        describe: 'quit QEMU without asking the guest',
      }),
    ),
  handler: async (args) =>
    setExit(
      await withInstance(args, async (instance) => {
        await instance.stop({ force: args.force });
        return startInstance(instance, args);
      }),
    ),
});

interface RmArgs {
  names: string[];
  force?: boolean | undefined;
  'log-level'?: string | undefined;
}

export const rmCommand = (setExit: (code: number) => void): CommandModule<object, RmArgs> => ({
  command: 'rm <names..>',
  describe: 'delete instances and their disks (a running one only with --force)',
  builder: (y) =>
    y
      .positional('names', { type: 'string', array: true, demandOption: true, describe: 'instance names' })
      .option('force', { type: 'boolean', alias: 'f', describe: 'stop running instances first' }),
  handler: async (args) => {
    let code = 0;
    for (const name of args.names) {
      try {
        const { Instance } = await import('../../instance/instance.js');
        await Instance.destroy(name, { ...(await instanceOptions(args)), force: args.force });
        say(`removed ${name}`);
      } catch (error) {
        code ||= reportError(error);
      }
    }
    setExit(code);
  },
});
