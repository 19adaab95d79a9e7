// The readiness a user asks for (`--wait`, a machine file's `readiness`), parsed apart from the waiting itself so
// the CLI can check the option before it loads anything.

import { ErrorCode, QlaunchError } from '../errors.js';

export const WAIT_KINDS = ['none', 'ssh', 'cloud-init', 'agent'] as const;

export type InstanceReadiness = (typeof WAIT_KINDS)[number] | { serial: string };

export function parseWait(text: string): InstanceReadiness {
  if ((WAIT_KINDS as readonly string[]).includes(text)) return text as (typeof WAIT_KINDS)[number];
  if (text.startsWith('serial:') && text.length > 'serial:'.length)
    return { serial: text.slice('serial:'.length) };
  throw new QlaunchError(ErrorCode.USAGE, `--wait ${text} is not a readiness check`, {
    hint: 'use none, ssh, cloud-init, agent or serial:TEXT',
  });
}

export const describeWait = (wait: InstanceReadiness): string =>
  typeof wait === 'string' ? wait : `serial:${wait.serial}`;
