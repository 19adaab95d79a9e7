// QEMU machine types and their aliases (`q35` is `pc-q35-7.2`), which firmware descriptors match by glob.

export interface MachineType {
  name: string;
  description: string;
  /** The versioned machine this name stands for, e.g. "pc-q35-7.2" for "q35". */
  aliasOf?: string | undefined;
  isDefault: boolean;
}

/** Parses `qemu-system-* -machine help`. */
export function parseMachineHelp(output: string): MachineType[] {
  return output.split('\n').flatMap((line) => {
    const match = /^(\S+)\s+(.*?)\s*$/.exec(line);
    if (!match || line.startsWith('Supported machines')) return [];
    const [, name = '', description = ''] = match;
    const aliasOf = /\(alias of ([^)\s]+)\)/.exec(description)?.[1];
    return [{ name, description, aliasOf, isDefault: description.includes('(default)') }];
  });
}

/** The names `machine` goes by: itself, then the versioned type it is an alias of (if `machines` says so). */
export function machineNames(machine: string, machines: readonly MachineType[]): string[] {
  const aliasOf = machines.find((m) => m.name === machine)?.aliasOf;
  return aliasOf ? [machine, aliasOf] : [machine];
}

/** The machine types `binary` supports; empty when it cannot say (callers then match the plain name only). */
export async function listMachines(binary: string): Promise<MachineType[]> {
  // Loaded on first use: execa costs start-up time every `qlaunch run` would pay.
  const { execa } = await import('execa');
  const result = await execa(binary, ['-machine', 'help'], { reject: false, timeout: 5000, stdin: 'ignore' });
  return result.exitCode === 0 ? parseMachineHelp(String(result.stdout)) : [];
}

/** The type `name` runs as on this QEMU: the versioned type an alias stands for, else itself; undefined if absent. */
export function machineTypeOf(name: string, machines: readonly MachineType[]): string | undefined {
  const found = machines.find((m) => m.name === name);
  return found && (found.aliasOf ?? found.name);
}
