// QEMU's `key=value,…` option strings (-chardev, -device, --image-opts): written with commas doubled, read back.

/** QEMU's option syntax splits on commas; a literal comma in a value is written twice. */
export const escapeOptionValue = (value: string): string => value.replaceAll(',', ',,');

/**
 * An option string as QEMU reads it: split on single commas, `,,` a literal comma, each part `key=value` split at
 * its first `=`. A first part without `=` (`socket` in `-chardev socket,…`) is the value of `implied`; a later one
 * is a flag set `on`.
 */
export function parseOptionString(text: string, implied = ''): Map<string, string> {
  const parts: string[] = [];
  let part = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char !== ',') part += char;
    else if (text[i + 1] === ',') {
      part += ',';
      i++;
    } else {
      parts.push(part);
      part = '';
    }
  }
  parts.push(part);
  const options = new Map<string, string>();
  parts.forEach((item, i) => {
    const eq = item.indexOf('=');
    if (eq >= 0) options.set(item.slice(0, eq), item.slice(eq + 1));
    else options.set(i === 0 ? implied : item, i === 0 ? item : 'on');
  });
  return options;
}
