// A GET over node:http / node:https (no browser's list of blocked ports): redirects followed up to a bound, https
// checked against Node's and the system's CAs, the status checked, and a body that must keep arriving.

import { readFileSync } from 'node:fs';
import { type ClientRequest, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';
import { ErrorCode, QlaunchError } from '../errors.js';
import { checkDownloadUrl } from './download-url.js';
import { abortedError } from './hashed-write.js';
import { shownUrl } from './url-text.js';

const MAX_REDIRECTS = 10;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// How often a stall is reported while it lasts.
const STALL_REPORT_MS = 1000;

// Where distributions keep their CA bundle (as Go's crypto/x509 looks for it); SSL_CERT_FILE first, as OpenSSL does.
const SYSTEM_CA_FILES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/cert.pem',
];

const readable = (path: string | undefined): string | undefined => {
  if (!path) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

let caCache: { key: string; ca: string[] } | undefined;

/** Node's own roots plus the system's bundle and NODE_EXTRA_CA_CERTS: a given `ca` replaces Node's defaults. */
function trustedCas(): string[] {
  const env = process.env;
  const key = `${env['SSL_CERT_FILE']}\0${env['NODE_EXTRA_CA_CERTS']}`;
  if (caCache?.key !== key) {
    const system = [env['SSL_CERT_FILE'], ...SYSTEM_CA_FILES]
      .map(readable)
      .find((text) => text !== undefined);
    const extra = readable(env['NODE_EXTRA_CA_CERTS']);
    caCache = { key, ca: [...rootCertificates, ...(system ? [system] : []), ...(extra ? [extra] : [])] };
  }
  return caCache.ca;
}

export interface GetOptions {
  /** What is being fetched, for errors: "download of https://…". */
  what: string;
  /** Fail when no byte (or no response) arrives for this many milliseconds. */
  stallTimeout: number;
  /** The error a stall fails with, given how long it lasted. */
  stallError: (stalledMs: number) => Error;
  /** Called about once a second while a stall lasts, with how long it has lasted. */
  onStall?: ((stalledMs: number) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface GetResponse {
  /** Where the bytes come from after redirects. */
  url: string;
  /** From Content-Length; undefined when the server does not say. */
  length: number | undefined;
  /** The body; it fails if the connection breaks, stalls or is aborted, and is closed when left early. */
  body: AsyncIterable<Uint8Array>;
  /** Closes the connection, also when the body was never read. */
  cancel(): void;
}

/** Fails the request in flight when nothing arrives for `stallTimeout`, and reports a stall while it lasts. */
class StallWatch {
  private timer: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private target: { destroy(error: Error): void } | undefined;

  constructor(private readonly options: GetOptions) {}

  /** Starts waiting for `target` to deliver something. */
  arm(target: { destroy(error: Error): void }): void {
    this.disarm();
    this.target = target;
    const since = Date.now();
    this.timer = setTimeout(
      () => this.target?.destroy(this.options.stallError(Date.now() - since)),
      this.options.stallTimeout,
    );
    if (this.options.onStall) {
      const onStall = this.options.onStall;
      this.ticker = setInterval(() => onStall(Date.now() - since), STALL_REPORT_MS);
    }
  }

  disarm(): void {
    clearTimeout(this.timer);
    clearInterval(this.ticker);
    this.timer = undefined;
    this.ticker = undefined;
  }
}

const contentLength = (response: IncomingMessage): number | undefined => {
  const header = response.headers['content-length'];
  const length = header === undefined ? Number.NaN : Number(header);
  return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
};

const requestError = (url: string, error: Error): QlaunchError => {
  const code = (error as NodeJS.ErrnoException).code;
  const detail = code && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  return new QlaunchError(ErrorCode.IMAGE_DOWNLOAD_FAILED, `cannot fetch ${shownUrl(url)}: ${detail}`, {
    hint: 'check the URL, the network and any proxy',
    cause: error,
  });
};

/** One request for `url`; resolves with the response head, or rejects naming the URL. */
function requestOnce(url: URL, watch: StallWatch, options: GetOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    // identity: Content-Length then counts the bytes we store, and no server gzips a disk image behind our back.
    const headers = { 'accept-encoding': 'identity', 'user-agent': 'qlaunch' };
    const request: ClientRequest = send(url, {
      headers,
      ...(url.protocol === 'https:' && { ca: trustedCas() }),
    });
    const onAbort = () => request.destroy(abortedError(options.what));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    request.on('close', () => options.signal?.removeEventListener('abort', onAbort));
    watch.arm(request);
    request.on('response', (response) => {
      watch.disarm();
      resolve(response);
    });
    request.on('error', (error) => {
      watch.disarm();
      reject(error instanceof QlaunchError ? error : requestError(url.href, error));
    });
    request.end();
  });
}

/** The body of `response`, failing when it stalls; the connection is closed however the reading ends. */
async function* watchedBody(
  response: IncomingMessage,
  watch: StallWatch,
  options: GetOptions,
): AsyncGenerator<Uint8Array> {
  const chunks = response[Symbol.asyncIterator]();
  const onAbort = () => response.destroy(abortedError(options.what));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      watch.arm(response);
      const next = await chunks.next();
      watch.disarm();
      if (next.done) return;
      yield next.value as Uint8Array;
    }
  } finally {
    watch.disarm();
    options.signal?.removeEventListener('abort', onAbort);
    response.destroy();
  }
}

const statusError = (url: string, finalUrl: string, response: IncomingMessage): QlaunchError => {
  const where = finalUrl !== url ? ` (redirected to ${shownUrl(finalUrl)})` : '';
  const status = response.statusCode ?? 0;
  return new QlaunchError(
    ErrorCode.IMAGE_DOWNLOAD_FAILED,
    `GET ${shownUrl(url)}${where} failed: HTTP ${status} ${response.statusMessage ?? ''}`.trimEnd(),
    {
      hint:
        status >= 500
          ? 'the server had a problem: try again later'
          : 'check the URL; the vendor may have moved or retired the image',
    },
  );
};

/**
 * GETs `url`, following up to ten redirects (each target checked as the URL itself is), and returns the body of
 * a 2xx response. Other statuses, network errors, stalls and aborts reject; nothing is left open.
 */
export async function httpGet(url: string, options: GetOptions): Promise<GetResponse> {
  const watch = new StallWatch(options);
  let current = url;
  for (let hops = 0; ; hops++) {
    if (options.signal?.aborted) throw abortedError(options.what);
    const response = await requestOnce(checkDownloadUrl(current), watch, options);
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if (REDIRECTS.has(status) && location !== undefined) {
      response.destroy();
      if (hops >= MAX_REDIRECTS) {
        throw new QlaunchError(
          ErrorCode.IMAGE_DOWNLOAD_FAILED,
          `GET ${shownUrl(url)} was redirected more than ${MAX_REDIRECTS} times`,
          { hint: 'the server redirects in a loop: check the URL, or try again later' },
        );
      }
      try {
        current = new URL(location, current).href;
      } catch {
        throw new QlaunchError(
          ErrorCode.IMAGE_DOWNLOAD_FAILED,
          `GET ${shownUrl(url)} was redirected to '${shownUrl(location)}', which is not a URL`,
          { hint: 'the server sent a broken redirect: check the URL, or tell its owner' },
        );
      }
      continue;
    }
    if (status < 200 || status > 299) {
      response.destroy();
      throw statusError(url, current, response);
    }
    return {
      url: current,
      length: contentLength(response),
      body: watchedBody(response, watch, options),
      cancel: () => {
        watch.disarm();
        response.destroy();
      },
    };
  }
}
