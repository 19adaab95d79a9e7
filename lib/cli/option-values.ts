// Checks of option values at parse time, so a bad value is refused before any work starts (yargs `coerce`).

import { ErrorCode, QlaunchError } from '../errors.js';

// yargs rethrows a coerce error as a bare YError with only its message: keep ours to give back its hint.
const thrown = new Map<string, QlaunchError>();

const usage = (message: string, hint: string): QlaunchError => {
  const error = new QlaunchError(ErrorCode.USAGE, message, { hint });
  thrown.set(message, error);
  return error;
};

/** The error a coerce check threw, from the YError yargs made of it; otherwise `error` as it is. */
export const coerceError = (error: Error): Error => thrown.get(error.message) ?? error;

/** `--NAME SECONDS`: a positive number (`allowZero`: or 0); yargs reads a non-number as NaN. */
export const secondsOption =
  (name: string, example: string, allowZero = false) =>
  (value: number | undefined): number | undefined => {
    if (value === undefined) return undefined;
    if (!Number.isFinite(value) || value < 0 || (value === 0 && !allowZero)) {
      const given = Number.isNaN(value) ? 'given' : String(value);
      throw usage(
        `--${name} ${given} is not ${allowZero ? 'a number of seconds of 0 or more' : 'a positive number of seconds'}`,
        `give seconds, e.g. --${name} ${example}`,
      );
    }
    return value;
  };

/** `--NAME N`: a whole number of at least `min`. */
export const countOption =
  (name: string, example: string, min = 1) =>
  (value: number | undefined): number | undefined => {
    if (value === undefined) return undefined;
    if (!Number.isInteger(value) || value < min) {
      throw usage(`--${name} ${value} is not a whole number of ${min} or more`, `e.g. --${name} ${example}`);
    }
    return value;
  };

/** Runs a check that throws a QlaunchError as a coerce step, keeping its hint for the usage message. */
export const checked =
  <T>(check: (value: T) => unknown) =>
  (value: T | undefined): T | undefined => {
    if (value === undefined) return undefined;
    try {
      check(value);
    } catch (error) {
      if (error instanceof QlaunchError) thrown.set(error.message, error);
      throw error;
    }
    return value;
  };
