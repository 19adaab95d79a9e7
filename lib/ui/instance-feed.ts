// The instance list, pushed to the page when it changes: the instances directory is watched for the files a
// start, stop or create writes, and looked at again now and then for what leaves no file behind (a pause, a crash).

import { type FSWatcher, watch } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename } from 'node:path';
import { GUEST_FILES } from '../files.js';
import { Instance, type InstanceOptions } from '../instance/instance.js';
import { instancesRoot } from '../instance/layout.js';

/** The files whose coming and going is a change of state; disk and log writes are not (and are many). */
const STATE_FILES = new Set<string>([GUEST_FILES.config, GUEST_FILES.pid, GUEST_FILES.runtime]);

/** Whether a change to `file` (relative to the instances directory) can change the list (pure). */
export const changesList = (file: string | null): boolean =>
  file === null || !file.includes('/') || STATE_FILES.has(basename(file));

/** How long a burst of changes settles before the list is read again. */
const SETTLE_MS = 150;
/** How often the list is read again while someone watches, for a pause or a crash. */
const RECHECK_MS = 5000;

export class InstanceFeed {
  readonly #options: InstanceOptions;
  readonly #listeners = new Set<(json: string) => void>();
  #last: string | undefined;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #recheck: NodeJS.Timeout | undefined;
  #reading: Promise<void> | undefined;
  #again = false;

  constructor(options: InstanceOptions) {
    this.#options = options;
  }

  async start(): Promise<void> {
    const root = this.#options.root ?? instancesRoot();
    // Made if missing, as `create` would: a directory that does not exist cannot be watched.
    await mkdir(root, { recursive: true, mode: 0o700 });
    this.#watcher = watch(root, { recursive: true }, (_event, file) => {
      if (changesList(file === null ? null : String(file))) this.changed();
    });
    this.#watcher.on('error', () => {});
    this.#recheck = setInterval(() => this.#listeners.size > 0 && this.changed(), RECHECK_MS);
    this.#recheck.unref();
  }

  /** Call `listener` with the list's JSON now and on every change; returns the unsubscribe. */
  subscribe(listener: (json: string) => void): () => void {
    this.#listeners.add(listener);
    if (this.#last !== undefined) listener(this.#last);
    else this.changed();
    return () => this.#listeners.delete(listener);
  }

  /** Something may have changed (an action ended, a file moved): read the list soon, push it if it differs. */
  changed(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#read();
    }, SETTLE_MS);
  }

  close(): void {
    this.#watcher?.close();
    clearTimeout(this.#timer);
    clearInterval(this.#recheck);
    this.#listeners.clear();
  }

  /** One read at a time; a change during a read means one more read after it. */
  async #read(): Promise<void> {
    if (this.#reading) {
      this.#again = true;
      return;
    }
    this.#reading = (async () => {
      const json = JSON.stringify(await Instance.list(this.#options).catch(() => undefined));
      if (json !== undefined && json !== this.#last) {
        this.#last = json;
        for (const listener of this.#listeners) listener(json);
      }
    })();
    await this.#reading;
    this.#reading = undefined;
    if (this.#again) {
      this.#again = false;
      await this.#read();
    }
  }
}
