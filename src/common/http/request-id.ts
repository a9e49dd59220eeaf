import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Accepted client request ids: short and log-safe; anything else is replaced by a fresh id. */
const ACCEPTED_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Fastify's genReqId: echoes a well-formed `X-Request-Id` or makes one. The id is also put on the raw
 * request, where the pino-http logger reads it, so logs and the response header agree.
 */
export function requestIdOf(raw: IncomingMessage): string {
  const given = raw.headers['x-request-id'];
  const id = typeof given === 'string' && ACCEPTED_REQUEST_ID.test(given) ? given : randomUUID();
  (raw as IncomingMessage & { id?: string }).id = id;
  return id;
}
