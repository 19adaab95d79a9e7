// Whether a string the user gave is a URL qlaunch downloads from (http or https, no credentials), and if not, what
// is wrong with it: pure.

import { ErrorCode, QlaunchError } from '../errors.js';
import { hasCredentials, shownUrl } from './url-text.js';

interface UrlProblem {
  problem: string;
  hint: string;
}

const SCHEME = /^([a-z][a-z0-9+.-]*):/i;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const CONTROL = /[\u0000-\u001f\u007f]/;

/** What is wrong with `text` written as a URL when WHATWG URL parsing refuses it. */
function syntaxProblem(text: string): UrlProblem {
  if (/[ \u00a0]/.test(text)) {
    return {
      problem: 'it contains a space',
      hint: 'write a space in a URL as %20, and check the URL was copied whole',
    };
  }
  if (CONTROL.test(text)) {
    return { problem: 'it contains a control character', hint: 'check the URL was copied whole' };
  }
  const authority = /^[^:]+:\/\/([^/?#]*)/.exec(text)?.[1] ?? '';
  const host = authority.replace(/^.*@/, '');
  if (host === '')
    return { problem: 'it names no host', hint: 'give the whole URL, e.g. https://host/path/image.qcow2' };
  if (host.startsWith('[') && !host.includes(']')) {
    return {
      problem: 'the [ of its IPv6 address is never closed by ]',
      hint: 'write an IPv6 host in brackets before the port, e.g. http://[::1]:8080/image.qcow2',
    };
  }
  const port = /^(?:\[[^\]]*\]|[^:]*):(.*)$/.exec(host)?.[1];
  if (port !== undefined && !/^\d*$/.test(port)) {
    return {
      problem: `its port '${port}' is not a number`,
      hint: 'write the port as digits after the host, e.g. host:8080',
    };
  }
  if (port !== undefined && Number(port) > 65535) {
    return { problem: `its port ${port} is above 65535`, hint: 'check the port' };
  }
  return {
    problem: 'it is not a well-formed URL',
    hint: 'check the URL, e.g. https://host/path/image.qcow2',
  };
}

// A control character is shown escaped: the message stays one line.
const quoted = (text: string): string => (CONTROL.test(text) ? JSON.stringify(text) : `'${text}'`);

const refused = (url: string, problem: string, hint: string): QlaunchError =>
  new QlaunchError(ErrorCode.IMAGE_DOWNLOAD_FAILED, `${quoted(shownUrl(url))} ${problem}`, { hint });

/** `url` as an http(s) URL, or an error naming it (redacted) and saying what is wrong and what qlaunch can fetch. */
export function checkDownloadUrl(url: string): URL {
  // URL parsing drops leading spaces and control characters, so the scheme is looked for after them too.
  const scheme = SCHEME.exec(url.trim())?.[1]?.toLowerCase();
  if (scheme === undefined) {
    throw refused(url, 'is not an http:// or https:// URL', 'give the whole URL, starting with https://');
  }
  if (scheme !== 'http' && scheme !== 'https') {
    throw refused(
      url,
      `is not an http:// or https:// URL: qlaunch does not download over ${scheme}:`,
      scheme === 'file'
        ? 'add a local file with `qlaunch image import FILE`'
        : 'use the https:// URL the vendor publishes, or download the file yourself and `qlaunch image import` it',
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    const { problem, hint } = syntaxProblem(url);
    throw refused(url, `is not a valid URL: ${problem}`, hint);
  }
  if (hasCredentials(parsed)) {
    throw new QlaunchError(
      ErrorCode.IMAGE_DOWNLOAD_FAILED,
      `${shownUrl(url)} carries a user name and password, which qlaunch does not send`,
      {
        hint: 'use a URL the server accepts without them (a signed link, say), or download the file yourself and `qlaunch image import` it',
      },
    );
  }
  return parsed;
}
