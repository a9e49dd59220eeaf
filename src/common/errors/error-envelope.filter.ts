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
      // Name and stack only: messages of driver errors may quote SQL parameters.
      this.logger.error({ err: { name: (error as Error)?.name, stack: (error as Error)?.stack } }, 'Unhandled error');
    }
    if (result.retryAfterSeconds !== undefined) reply.header('Retry-After', String(result.retryAfterSeconds));
    void reply.status(result.status).header('Cache-Control', 'no-store').send(result.body);
  }
}
