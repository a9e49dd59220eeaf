import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { DomainError } from '../errors/domain-error';
import { errorResponseOf } from '../errors/error-envelope';

/**
 * Fastify's clientErrorHandler: a request Node's HTTP parser refuses before there is a request object
 * (headers over the 16 KiB limit, a malformed request line, a bad Content-Length) otherwise answers with
 * Fastify's `{"error","message","statusCode"}`. These get the docs/api.md envelope and a fresh X-Request-Id,
 * and so does a client that did not send its whole request within REQUEST_TIMEOUT_MS (408).
 */
export function replyToClientError(error: Error & { code?: string }, socket: Socket): void {
  // A reset or destroyed connection has no one to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const headers = error.code === 'HPE_HEADER_OVERFLOW';
  const refusal = timedOut
    ? DomainError.invalidField('request', 'The request was not received within the time allowed', 'RequestTimeout')
    : headers
      ? DomainError.invalidField('headers', 'The request headers are larger than 16 KiB', 'HeadersTooLarge')
      : DomainError.invalidField('request', 'The request is not valid HTTP', 'MalformedRequest');
  const status = timedOut ? 408 : headers ? 431 : 400;
  const body = JSON.stringify(errorResponseOf(refusal).body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nX-Request-Id: ${randomUUID()}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
