import { applyDecorators, Header } from '@nestjs/common';

/**
 * `Cache-Control: no-store` on a route whose answer carries a secret, a code, an otpauth URI or a session
 * id, so that no browser or proxy cache keeps it. Error answers are no-store already (sendError).
 */
export function NoStore(): MethodDecorator {
  return applyDecorators(Header('Cache-Control', 'no-store'));
}
