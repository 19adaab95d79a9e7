// The agent answers in order and has no ids for the sync: so operations run strictly one after another.

import { armDeadline, type DeadlineOptions, expiryError } from './deadline.js';

/** One queued operation: `cancel` drops its waiter when its deadline passes while it is the one on the wire. */
export interface Turn {
  done: boolean;
  cancel: ((error: Error) => void) | undefined;
}

export class TurnQueue {
  readonly #label: string;
  #tail: Promise<void> = Promise.resolve();

  /** `label` names the agent in expiry errors: the socket path. */
  constructor(label: string) {
    this.#label = label;
  }

  /** Runs `work` after every operation queued before it; QGA_TIMEOUT or QGA_ABORTED if its deadline passes first. */
  run<T>(what: string, options: DeadlineOptions, work: (turn: Turn) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const turn: Turn = { done: false, cancel: undefined };
      let disarm = (): void => {};
      const finish = (settle: () => void): void => {
        if (turn.done) return;
        turn.done = true;
        disarm();
        settle();
      };
      disarm = armDeadline(options, (expiry) => {
        const error = expiryError(what, this.#label, expiry);
        turn.cancel?.(error);
        finish(() => reject(error));
      });
      this.#tail = this.#tail.then(async () => {
        if (turn.done) return;
        try {
          const value = await work(turn);
          finish(() => resolve(value));
        } catch (error) {
          finish(() => reject(error));
        }
      });
    });
  }
}
