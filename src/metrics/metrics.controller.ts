import { CanActivate, Controller, ExecutionContext, Get, Header, Inject, Injectable, UseGuards } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { JwtVerifier } from '../common/auth/jwt-verifier';
import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import { API_TAGS } from '../common/http/api-tags';
import { ApiErrorResponse } from '../common/http/error-envelope.dto';
import { Metrics } from '../common/metrics/metrics';
import { metricsConfig } from '../config/app.config';

/** Open by default (a scraper on a private network); METRICS_REQUIRE_SCOPE=true asks for metrics:read. */
@Injectable()
class MetricsAccessGuard implements CanActivate {
  constructor(
    private readonly verifier: JwtVerifier,
    @Inject(metricsConfig.KEY) private readonly config: ConfigType<typeof metricsConfig>,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.config.requireScope) return true;
    const principal = await this.verifier.verify(
      context.switchToHttp().getRequest<FastifyRequest>().headers.authorization,
    );
    if (!principal.scopes.has('metrics:read'))
      throw new DomainError(ErrorCode.Forbidden, 'This route needs the scope metrics:read');
    return true;
  }
}

@ApiTags(API_TAGS.operations.name)
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get()
  @UseGuards(MetricsAccessGuard)
  // Open by default, so a token is optional in the document: `{}` is "no token".
  @ApiSecurity({})
  @ApiBearerAuth()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({
    operationId: 'getMetrics',
    summary: 'Prometheus metrics',
    description:
      'Requests and latency by route, verify outcomes by result. Open by default; with METRICS_REQUIRE_SCOPE=true ' +
      'it needs a token with the scope metrics:read.',
  })
  @ApiOkResponse({
    description: 'Prometheus text format 0.0.4',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  @ApiErrorResponse(ErrorCode.Unauthorized, 'Missing, invalid or expired bearer token (METRICS_REQUIRE_SCOPE=true)', {
    message: 'A bearer token is required',
  })
  @ApiErrorResponse(ErrorCode.Forbidden, 'The token lacks the scope metrics:read (METRICS_REQUIRE_SCOPE=true)', {
    message: 'This route needs the scope metrics:read',
  })
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
