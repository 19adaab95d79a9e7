// Text from outside (file names, URLs, a guest's console) made safe for a terminal: control characters are shown
// escaped, so a name like $'evil\e[2J.qcow2' cannot clear the screen or retitle the window.

const escapeChar = (c: string): string => {
  const code = c.codePointAt(0) ?? 0;
  if (c === '\n') return '\\n';
  if (c === '\t') return '\\t';
  if (c === '\r') return '\\r';
  if (code === 0x1b) return '\\e';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
};

// C0 and C1 controls, DEL, and the line/paragraph separators and bidi overrides that reorder what is shown.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;
const CONTROL_BUT_LAYOUT =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the same, but line breaks and tabs kept
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/** One line's worth of outside text (a table cell, a progress label): every control character escaped. */
export const printable = (text: string): string => text.replace(CONTROL, escapeChar);

/** A message of several lines: its line breaks and tabs kept, every other control character escaped. */
export const printableLines = (text: string): string => text.replace(CONTROL_BUT_LAYOUT, escapeChar);
