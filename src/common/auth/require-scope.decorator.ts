import { ErrorCode } from '../errors/error-code';
import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata, UseGuards } from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import { ApiErrorResponse } from '../http/error-envelope.dto';
import { Actor, Principal, Scope } from './principal';
import { AuthenticatedRequest, REQUIRED_SCOPE, ScopeGuard } from './scope.guard';

/** Guard + scope + Swagger bearer, in one decorator for a controller or a route. */
export function RequireScope(scope: Scope): ClassDecorator & MethodDecorator {
  return applyDecorators(
    SetMetadata(REQUIRED_SCOPE, scope),
    UseGuards(ScopeGuard),
    ApiBearerAuth(),
    ApiErrorResponse(ErrorCode.Unauthorized, 'Missing, invalid or expired bearer token', {
      message: 'A bearer token is required',
    }),
    ApiErrorResponse(ErrorCode.Forbidden, `The token lacks the scope ${scope}`, {
      message: `This route needs the scope ${scope}`,
    }),
  );
}

/** The verified caller of a route guarded by RequireScope. */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new Error('CurrentPrincipal used on a route without RequireScope');
  return principal;
});

/** The verified caller as an audit actor: tenant, subject and this request's id. */
export const CurrentActor = createParamDecorator((_: unknown, context: ExecutionContext): Actor => {
  const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
  if (!request.principal) throw new Error('CurrentActor used on a route without RequireScope');
  return { tenant: request.principal.tenant, actorId: request.principal.sub, requestId: request.id };
});
