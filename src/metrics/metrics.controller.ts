import { CanActivate, Controller, ExecutionContext, Get, Header, Inject, Injectable, UseGuards } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { JwtVerifier } from '../common/auth/jwt-verifier';
import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
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

@ApiTags('Operations')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get()
  @UseGuards(MetricsAccessGuard)
  @ApiBearerAuth()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({
    summary:
      'Prometheus metrics: requests and latency by route, verify outcomes by result (token with metrics:read when METRICS_REQUIRE_SCOPE=true)',
  })
  @ApiOkResponse({ description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } })
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
