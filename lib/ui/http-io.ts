// The server's edges: security headers on every response, JSON in and out, errors as the page shows them.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, QlaunchError } from '../errors.js';
import { errorReply } from './error-reply.js';

/**
 * Scripts only from this server (no inline script, no eval); styles may be inline because xterm.js writes its
 * theme into a <style> element; nothing may frame the page.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  // The page's URL may still hold the token on its first load: never send it on.
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
} as const;

export function sendJson(response: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  response.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  response.end(body);
}

export function sendError(response: ServerResponse, error: unknown): void {
  const { status, body } = errorReply(error);
  sendJson(response, status, body);
}

/** Bodies are small JSON objects: anything larger is refused before it is read whole. */
const MAX_BODY_BYTES = 64 * 1024;

/** The request's JSON body (none: `{}`); only application/json, which a cross-site form cannot send. */
export async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      throw new QlaunchError(ErrorCode.USAGE, `the request body is over ${MAX_BODY_BYTES} bytes`, {
        hint: 'send a small JSON object',
      });
    }
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
    throw new QlaunchError(ErrorCode.USAGE, 'the request body is not JSON', {
      hint: 'send it with Content-Type: application/json',
    });
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new QlaunchError(
      ErrorCode.USAGE,
      `the request body is not valid JSON: ${(error as Error).message}`,
      {
        hint: 'send a JSON object',
      },
    );
  }
}
