import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../errors/domain-error';
import { ErrorCode } from '../errors/error-code';
import { JwtVerifier } from './jwt-verifier';
import { Principal, Scope } from './principal';

export const REQUIRED_SCOPE = 'twofa:required-scope';

export type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

/** 401 without a valid token, 403 without the route's scope; otherwise the principal rides on the request. */
@Injectable()
export class ScopeGuard implements CanActivate {
  constructor(
    private readonly verifier: JwtVerifier,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const scope = this.reflector.getAllAndOverride<Scope>(REQUIRED_SCOPE, [context.getHandler(), context.getClass()]);
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const principal = await this.verifier.verify(request.headers.authorization);
    if (scope && !principal.scopes.has(scope)) {
      throw new DomainError(ErrorCode.Forbidden, `This route needs the scope ${scope}`);
    }
    request.principal = principal;
    return true;
  }
}
