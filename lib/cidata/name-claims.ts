// Hands out names unique within one directory, trying numbered variants when a name is taken.

import { ErrorCode, QlaunchError } from '../errors.js';

/** More variants than any directory we could hold in memory needs. */
const MAX_TRIES = 1_000_000;

export class NameClaims {
  private readonly taken = new Set<string>();
  /** Per first choice, the variant number to try next: keeps thousands of colliding names linear. */
  private readonly nextTry = new Map<string, number>();

  /** `key` says when two names are the same (e.g. ignoring the version or the case). */
  constructor(private readonly key: (name: string) => string = (name) => name) {}

  /** Marks `name` as used without numbering it. */
  reserve(name: string): void {
    this.taken.add(this.key(name));
  }

  /** Claims the first free of `variant(0)`, `variant(1)`, ...; each n must give a different name. */
  claim(variant: (n: number) => string): string {
    const first = this.key(variant(0));
    for (let n = this.nextTry.get(first) ?? 0; n < MAX_TRIES; n++) {
      const name = variant(n);
      if (this.taken.has(this.key(name))) continue;
      this.taken.add(this.key(name));
      this.nextTry.set(first, n + 1);
      return name;
    }
    throw new QlaunchError(ErrorCode.SEED_TOO_LARGE, 'Too many seed files share one directory', {
      hint: 'Spread the files over subdirectories.',
    });
  }
}
