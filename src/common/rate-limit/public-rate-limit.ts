import { applyDecorators, Module, UseGuards } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { httpConfig } from '../../config/app.config';
import { SystemClock } from '../clock';
import { ErrorCode } from '../errors/error-code';
import { ApiErrorResponse } from '../http/error-envelope.dto';
import { clientAddressOf, ForwardedAddresses } from './client-address';
import { DatabaseThrottlerStorage } from './database-throttler.storage';

const WINDOW_MS = 60_000;
const LIMITED_MESSAGE = 'Too many requests from this address; try again later';

/**
 * The per-address limit of the public routes (PUBLIC_RATE_LIMIT per minute, 0 = off): one budget per
 * client address shared by every public route and, through the database, by every instance.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      inject: [httpConfig.KEY, getDataSourceToken()],
      useFactory: (http: ConfigType<typeof httpConfig>, dataSource: DataSource) => ({
        // Named 'default' so the headers are plain Retry-After and X-RateLimit-* (others get a suffix).
        throttlers: [{ name: 'default', ttl: WINDOW_MS, limit: http.publicRateLimitPerMinute }],
        skipIf: () => http.publicRateLimitPerMinute === 0,
        // The address alone (validated, as far as TRUST_PROXY believes X-Forwarded-For), not address + route.
        getTracker: (request) => clientAddressOf(request as ForwardedAddresses),
        generateKey: (_context, tracker) => `public:${tracker}`,
        errorMessage: LIMITED_MESSAGE,
        storage: new DatabaseThrottlerStorage(dataSource, new SystemClock()),
      }),
    }),
  ],
  exports: [ThrottlerModule],
})
export class PublicRateLimitModule {}

/** Limits a controller or route by client address (PublicRateLimitModule must be imported). */
export function PublicRateLimit(): ClassDecorator & MethodDecorator {
  return applyDecorators(
    UseGuards(ThrottlerGuard),
    ApiErrorResponse(
      ErrorCode.TooManyAttempts,
      'More than PUBLIC_RATE_LIMIT requests in a minute from this address; see Retry-After',
      { message: LIMITED_MESSAGE },
    ),
  );
}
