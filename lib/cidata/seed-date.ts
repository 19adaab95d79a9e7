// Picks the one timestamp a seed image records everywhere: explicit date, else SOURCE_DATE_EPOCH, else now.

import { ErrorCode, QlaunchError } from '../errors.js';

/**
 * An explicit `date` wins because the caller asked for it; SOURCE_DATE_EPOCH
 * (reproducible-builds.org) replaces only the current time.
 */
export const resolveSeedDate = (
  date: Date | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
  now: () => Date = () => new Date(),
): Date => {
  if (date !== undefined) {
    if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
      throw new QlaunchError(ErrorCode.SEED_INVALID, `Seed date ${String(date)} is not a valid Date`, {
        hint: 'Pass a valid Date, or leave date out to use SOURCE_DATE_EPOCH or the current time.',
      });
    }
    return date;
  }
  const epoch = env['SOURCE_DATE_EPOCH'];
  if (epoch !== undefined && epoch !== '') {
    const seconds = /^\d{1,12}$/.test(epoch) ? Number(epoch) : Number.NaN;
    const parsed = new Date(seconds * 1000);
    if (Number.isNaN(parsed.getTime())) {
      throw new QlaunchError(
        ErrorCode.SEED_INVALID,
        `SOURCE_DATE_EPOCH=${JSON.stringify(epoch)} is not valid`,
        {
          hint: 'Set SOURCE_DATE_EPOCH to a whole number of seconds since 1970-01-01 UTC, or unset it.',
        },
      );
    }
    return parsed;
  }
  return now();
};
