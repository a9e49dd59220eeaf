import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { errorResponseOf } from './error-envelope';

/** The one global filter: every error leaves as the API.md envelope. */
@Catch()
export class ErrorEnvelopeFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(error: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const result = errorResponseOf(error);
    if (result.unexpected) {
      // Name, driver code and the stack's frames only: the message (also the stack's first line) of a
      // driver error may quote SQL parameters (`Duplicate entry '...'`).
      const { name, stack, driverError } = (error ?? {}) as Error & { driverError?: { code?: string } };
      const frames = stack?.split('\n').slice(1).join('\n');
      this.logger.error({ err: { name, code: driverError?.code, stack: frames } }, 'Unhandled error');
    }
    if (result.retryAfterSeconds !== undefined) reply.header('Retry-After', String(result.retryAfterSeconds));
    void reply.status(result.status).header('Cache-Control', 'no-store').send(result.body);
  }
}
