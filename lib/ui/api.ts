// The page's operations, each one the library call the matching CLI command makes: nothing here runs a shell or a
// command the browser chose.

import { Instance, type InstanceOptions } from '../instance/instance.js';
import type { LogSource } from '../instance/logs.js';
import { parseCreate, parsePort, parseRemove, parseSnapshot } from './requests.js';
import type { Action } from './routes.js';

/** Every instance with its state, as `qlaunch ls --json` lists them. */
export const listInstances = (options: InstanceOptions) => Instance.list(options);

/** `qlaunch create` from the page's form; left stopped, as the CLI leaves it. */
export async function createInstance(body: unknown, options: InstanceOptions) {
  const request = parseCreate(body);
  const instance = await Instance.create(request, options);
  return instance.info();
}

/** start, stop, stop --force, restart, and pause/resume (QMP stop/cont) of one instance. */
export async function runAction(name: string, action: Action, options: InstanceOptions): Promise<object> {
  const instance = await Instance.open(name, options);
  switch (action) {
    case 'start':
      return instance.start();
    case 'stop':
      return instance.stop();
    case 'force-stop':
      return instance.stop({ force: true });
    case 'restart':
      return instance.restart();
    case 'pause':
      await instance.pause();
      return {};
    case 'resume':
      await instance.resume();
      return {};
  }
}

/** `qlaunch rm [--force]`, once the request names the instance again. */
export async function removeInstance(name: string, body: unknown, options: InstanceOptions): Promise<object> {
  const { force } = parseRemove(name, body);
  await Instance.destroy(name, { ...options, force });
  return { removed: name };
}

export async function listSnapshots(name: string, options: InstanceOptions) {
  return (await Instance.open(name, options)).listSnapshots();
}

export async function saveSnapshot(name: string, body: unknown, options: InstanceOptions) {
  const { tag, replace } = parseSnapshot(body);
  return (await Instance.open(name, options)).saveSnapshot(tag, { replace });
}

export async function loadSnapshot(name: string, tag: string, options: InstanceOptions) {
  return (await Instance.open(name, options)).loadSnapshot(tag);
}

export async function deleteSnapshot(name: string, tag: string, options: InstanceOptions): Promise<object> {
  await (await Instance.open(name, options)).deleteSnapshot(tag);
  return { deleted: tag };
}

/** `qlaunch port ls|add|rm`: the forwards QEMU has now, one added, one removed. */
export async function listPorts(name: string, options: InstanceOptions) {
  return (await Instance.open(name, options)).listPorts();
}

export async function addPort(name: string, body: unknown, options: InstanceOptions) {
  return (await Instance.open(name, options)).addPort(parsePort(body).spec);
}

export async function removePort(
  name: string,
  hostPort: number,
  protocol: 'tcp' | 'udp',
  options: InstanceOptions,
) {
  return (await Instance.open(name, options)).removePort(hostPort, protocol);
}

/** Lines of a log the page shows at most, as `qlaunch logs -n` would. */
const LOG_LINES = 500;

/** `qlaunch logs -n 500 --source SOURCE`: the console, QEMU's output or qlaunch's journal, as text. */
export async function readLog(name: string, source: LogSource, options: InstanceOptions): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of (await Instance.open(name, options)).logs({ source, lines: LOG_LINES })) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** A still picture of a running instance's screen (PNG), as `qlaunch screenshot` takes it. */
export async function screenshot(name: string, options: InstanceOptions): Promise<Buffer> {
  return (await Instance.open(name, options)).screenshot();
}
