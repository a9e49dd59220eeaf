import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { setResponseHeaders } from '../http/response-headers';
import { ErrorResponse, errorResponseOf } from './error-envelope';

/**
 * Answers with the envelope of `error` (status, Retry-After, no-store): the filter, and the replies
 * Fastify makes outside Nest (errors before routing, the request timeout), all send errors this way.
 */
export function sendError(reply: FastifyReply, error: unknown): ErrorResponse {
  const result = errorResponseOf(error);
  // A reply that skipped the onRequest hooks: Fastify's errors before routing (app.setup.ts frameworkErrors).
  if (!reply.hasHeader('x-request-id')) setResponseHeaders(reply);
  if (result.retryAfterSeconds !== undefined) reply.header('Retry-After', String(result.retryAfterSeconds));
  void reply.status(result.status).header('Cache-Control', 'no-store').send(result.body);
  return result;
}

/** The one global filter: every error leaves as the docs/api.md envelope. */
@Catch()
export class ErrorEnvelopeFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const result = sendError(http.getResponse<FastifyReply>(), error);
    if (result.unexpected) {
      // Name, driver code and the stack's frames only: the message (also the stack's first line) of a
      // driver error may quote SQL parameters (`Duplicate entry '...'`).
      const { name, stack, driverError } = (error ?? {}) as Error & { driverError?: { code?: string } };
      const frames = stack?.split('\n').slice(1).join('\n');
      // The request id here too: above LOG_LEVEL=info no request-bound logger exists (app.module.ts).
      const requestId = http.getRequest<FastifyRequest>().id;
      this.logger.error({ requestId, err: { name, code: driverError?.code, stack: frames } }, 'Unhandled error');
    }
  }
}
