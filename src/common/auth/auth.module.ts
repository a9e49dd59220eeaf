import { Global, Module } from '@nestjs/common';
import { JwtVerifier } from './jwt-verifier';
import { ScopeGuard } from './scope.guard';

/** Token verification for every guarded module. */
@Global()
@Module({
  providers: [JwtVerifier, ScopeGuard],
  exports: [JwtVerifier, ScopeGuard],
})
export class AuthModule {}
