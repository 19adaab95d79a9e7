// Paths in the commands a hint tells people to run: written so a shell reads each back as one word, unchanged.

const PLAIN = /^[A-Za-z0-9_./:=@%+,-]+$/;

/** `word` as a POSIX shell reads it back: bare when nothing in it is special, else in single quotes. */
export const shellWord = (word: string): string =>
  PLAIN.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
