// A URL as records and messages show it: credentials and query values (tokens, signatures) replaced by ***, so
// `image ls`, image.json and error messages never carry a secret that was part of the address.

const HIDDEN = '***';

export function shownUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not a URL at all: still cut what looks like user:password@ out of it.
    return url.replace(/(\/\/)[^/@\s]*@/, `$1${HIDDEN}@`);
  }
  if (parsed.username || parsed.password) {
    parsed.username = HIDDEN;
    parsed.password = '';
  }
  if (parsed.search) {
    const kept = [...parsed.searchParams.keys()].map((key) => `${encodeURIComponent(key)}=${HIDDEN}`);
    parsed.search = kept.join('&');
  }
  return parsed.href;
}

/** Whether `url` carries credentials in its authority (user:password@), which qlaunch never sends. */
export const hasCredentials = (url: URL): boolean => url.username !== '' || url.password !== '';
