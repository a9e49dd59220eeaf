import { IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { Response, Test } from 'supertest';
import { OpenApiConformance } from './openapi-conformance';

/**
 * Every answer the e2e suites get from an app (supertest requests and sendRaw) is judged by that app's own
 * OpenAPI document: a status it does not list, or a body that does not match its schema, fails the request
 * with the reason. startApp registers each app's document under its base URL.
 */
const documents = new Map<string, OpenApiConformance>();

export function judgeAnswersBy(baseUrl: string, conformance: OpenApiConformance): void {
  documents.set(new URL(baseUrl).origin, conformance);
}

function violationOf(method: string, url: string, answer: Omit<HttpResult, 'headers'> & { contentType?: string }) {
  return documents.get(new URL(url).origin)?.violation(method, url, { ...answer, contentType: answer.contentType });
}

type Assert = (this: Test, error: Error | null, res: Response | undefined, fn: (...args: unknown[]) => void) => void;
const supertestAssert = (Test.prototype as unknown as { assert: Assert }).assert;
(Test.prototype as unknown as { assert: Assert }).assert = function (error, res, fn) {
  const test = this as unknown as { method: string; url: string };
  const violation =
    res &&
    violationOf(test.method, test.url, {
      status: res.status,
      body: res.body,
      text: res.text,
      contentType: res.headers['content-type'],
    });
  if (violation) return fn.call(this, new Error(violation), res);
  return supertestAssert.call(this, error, res, fn);
};

/**
 * fetch with the answer judged like supertest's: for tests that send many requests at once, and for
 * clients that take a fetch function (openapi-fetch). A violation of the app's document rejects with the reason.
 */
export async function judgedFetch(resource: string | Request, init?: RequestInit): Promise<globalThis.Response> {
  const input = new Request(resource, init);
  const response = await fetch(input);
  const text = await response.clone().text();
  const contentType = response.headers.get('content-type') ?? undefined;
  const body: unknown = /^application\/json/.test(contentType ?? '') && text !== '' ? JSON.parse(text) : undefined;
  const violation = violationOf(input.method, input.url, { status: response.status, body, text, contentType });
  if (violation) throw new Error(violation);
  return response;
}

/** Asserts a status, showing the body when it differs. */
export function expectStatus(res: Response, status: number): Response {
  expect({ status: res.status, body: res.body as unknown }).toMatchObject({ status });
  return res;
}

/** The fieldName of every error in the response's error envelope, in order. */
export function fieldNames(res: Pick<Response, 'body'>): string[] {
  return (res.body.responseStatus.errors as { fieldName: string }[]).map((error) => error.fieldName);
}

/** The stable errorCode words of docs/api.md. */
export const ERROR_CODES = [
  'ValidationError',
  'Unauthorized',
  'Forbidden',
  'NotFound',
  'Conflict',
  'TooManyAttempts',
  'PayloadTooLarge',
  'UnsupportedMediaType',
  'ServiceUnavailable',
  'InternalError',
];

/** The request ids the server makes (and the client ids it accepts). */
export const SERVER_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** What the envelope check needs of a response: supertest's Response and RawResponse both fit. */
export interface HttpResult {
  status: number;
  headers: Record<string, unknown>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
}

/** Exactly `{responseStatus:{errorCode, message, errors:[{errorCode, fieldName, message}]}}`, nothing else. */
export function expectEnvelope(res: HttpResult, status: number, errorCode: string): void {
  expect({ status: res.status, errorCode: res.body?.responseStatus?.errorCode }).toEqual({ status, errorCode });
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(Object.keys(res.body)).toEqual(['responseStatus']);
  const responseStatus = res.body.responseStatus;
  expect(Object.keys(responseStatus).sort()).toEqual(['errorCode', 'errors', 'message']);
  expect(ERROR_CODES).toContain(responseStatus.errorCode);
  expect(typeof responseStatus.message).toBe('string');
  expect(responseStatus.message.length).toBeGreaterThan(0);
  expect(Array.isArray(responseStatus.errors)).toBe(true);
  for (const error of responseStatus.errors) {
    expect(Object.keys(error).sort()).toEqual(['errorCode', 'fieldName', 'message']);
    for (const value of Object.values(error)) expect(typeof value).toBe('string');
  }
  // No stack trace, no framework fields, anywhere in the body.
  expect(res.text).not.toMatch(/stack|statusCode|\bat .+\.(js|ts):\d+/i);
  expect(res.headers['x-request-id']).toMatch(SERVER_REQUEST_ID);
}

export interface RawRequest {
  method: string;
  /** Sent byte for byte: no normalisation or encoding of the path and query. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body in chunks without a Content-Length (Transfer-Encoding: chunked). */
  chunked?: boolean;
}

export interface RawResponse extends HttpResult {
  headers: IncomingHttpHeaders;
}

/**
 * One request over node:http with exactly the given method, path, headers and body bytes (supertest
 * would add a content type, encode the body, or normalise the URL). The body is JSON-parsed when the
 * response says it is JSON.
 */
export function sendRaw(baseUrl: string, req: RawRequest): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const body = req.body === undefined ? undefined : Buffer.from(req.body);
  const headers: Record<string, string> = { ...req.headers };
  if (body && !req.chunked) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    let answered = false;
    const outgoing = httpRequest(
      { hostname, port, method: req.method, path: req.path, headers, agent: false },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = undefined;
          if (/^application\/json/.test(res.headers['content-type'] ?? '')) parsed = JSON.parse(text);
          const answer = { status: res.statusCode ?? 0, headers: res.headers, text, body: parsed };
          const violation = violationOf(req.method, `${baseUrl}${req.path}`, {
            ...answer,
            contentType: res.headers['content-type'],
          });
          if (violation) reject(new Error(violation));
          else resolve(answer);
        });
      },
    );
    // The server may answer (413) and close before the whole body is written: that is not a failure.
    outgoing.on('error', (error) => {
      if (!answered) reject(error);
    });
    if (body && req.chunked) {
      for (let at = 0; at < body.length; at += 4096) outgoing.write(body.subarray(at, at + 4096));
    } else if (body) {
      outgoing.write(body);
    }
    outgoing.end();
  });
}

/**
 * (Not judged by the OpenAPI document: these are answers of Node's HTTP parser, before any route.)
 *
 * Writes `message` (a whole HTTP/1.1 request, which should say `Connection: close`) to a fresh socket and
 * parses the answer: for requests node:http would refuse to send (a bad Content-Length, headers over the
 * server's limit, a broken request line).
 */
export function sendBytes(baseUrl: string, message: string | Buffer): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => socket.end(message));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // The server may close while the request is still being written: what it sent is the answer.
    socket.on('error', (error) => (chunks.length > 0 ? undefined : reject(error)));
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const headerEnd = text.indexOf('\r\n\r\n');
      if (headerEnd < 0) return reject(new Error(`not an HTTP response: ${JSON.stringify(text.slice(0, 200))}`));
      const [statusLine, ...headerLines] = text.slice(0, headerEnd).split('\r\n');
      const headers: IncomingHttpHeaders = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const body = text.slice(headerEnd + 4);
      const parsed: unknown = /^application\/json/.test(headers['content-type'] ?? '') ? JSON.parse(body) : undefined;
      resolve({ status: Number(statusLine.split(' ')[1]), headers, text: body, body: parsed });
    });
  });
}
