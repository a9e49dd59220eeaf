import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { DomainError } from '../errors/domain-error';
import { ErrorCode } from '../errors/error-code';

/**
 * The body of a route that takes none: absent or `{}`. Any field sent is an unknown field (400), as on
 * every other route, so a client that means `{"count": 5}` is told instead of silently ignored. (The JSON
 * parser has already refused anything but an object.) A parameter decorator rather than `@Body()`, so
 * Swagger documents no request body for the route.
 */
export const NoBody = createParamDecorator((_: unknown, context: ExecutionContext): undefined => {
  const body = context.switchToHttp().getRequest<{ body?: unknown }>().body;
  const fields = body !== null && typeof body === 'object' ? Object.keys(body) : [];
  if (fields.length > 0) {
    const errors = fields.map((fieldName) => ({
      errorCode: 'UnknownField',
      fieldName,
      message: `${fieldName} is not a known field`,
    }));
    throw new DomainError(ErrorCode.ValidationError, errors[0].message, errors);
  }
  return undefined;
});
