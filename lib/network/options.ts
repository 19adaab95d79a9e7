// `--network` values for instances and throwaway cloud guests: `user` (always on) and `private:NET`, a private L2
// segment between guests.

import { ErrorCode, QlaunchError } from '../errors.js';
import { parseNetworkOption } from '../machine/spec.js';

/** The host bridges `values` name (`bridge:BR`), each once (pure). */
export const parseBridgeOptions = (values: readonly string[]): string[] => [
  ...new Set(values.map(parseNetworkOption).flatMap((o) => (o.kind === 'bridge' ? [o.name] : []))),
];

/** The private network names in `values` (pure); `user` is accepted and implied. */
export function parseNetworks(values: readonly string[]): string[] {
  const names: string[] = [];
  for (const value of values) {
    const option = parseNetworkOption(value);
    if (option.kind === 'none') {
      throw new QlaunchError(
        ErrorCode.SPEC_INVALID,
        'instances and cloud guests always have user networking',
        {
          hint: 'qlaunch reaches instances (SSH, forwards) through it: drop --network none',
        },
      );
    }
    if (option.kind === 'private' && !names.includes(option.name)) names.push(option.name);
  }
  return names;
}
