import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { DatabaseNodeIndicator } from './database-node.indicator';
import { ErrorCode } from '../common/errors/error-code';
import { API_TAGS } from '../common/http/api-tags';
import { ApiErrorResponse } from '../common/http/error-envelope.dto';

const CHECK_TIMEOUT_MS = 2000;

const CHECKS = {
  type: 'object' as const,
  // Each check's own details (the Galera node's state, say) ride beside its status.
  additionalProperties: {
    type: 'object',
    properties: { status: { type: 'string', enum: ['up', 'down'] } },
    required: ['status'],
    additionalProperties: true,
  },
};

/** Terminus's answer when every check is up (a failed check is a 503 in the error envelope). */
class HealthResponse {
  @ApiProperty({ type: String, enum: ['ok'], example: 'ok' })
  status!: 'ok';

  @ApiProperty({ ...CHECKS, description: 'The checks that are up', example: { database: { status: 'up' } } })
  info!: Record<string, { status: string }>;

  @ApiProperty({ ...CHECKS, description: 'The checks that are down (empty here)', example: {} })
  error!: Record<string, { status: string }>;

  @ApiProperty({ ...CHECKS, description: 'Every check', example: { database: { status: 'up' } } })
  details!: Record<string, { status: string }>;
}

// Documented here, not by Terminus: its 503 schema is not the error envelope the filter answers with.
const NO_TERMINUS_DOCS = { noCache: true, swaggerDocumentation: false };

@ApiTags(API_TAGS.operations.name)
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly databaseNode: DatabaseNodeIndicator,
  ) {}

  @Get('live')
  @HealthCheck(NO_TERMINUS_DOCS)
  @ApiOperation({
    operationId: 'getLiveness',
    summary: 'The process is up',
    description: 'Checks nothing else: for a liveness probe.',
  })
  @ApiOkResponse({ type: HealthResponse, example: { status: 'ok', info: {}, error: {}, details: {} } })
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck(NO_TERMINUS_DOCS)
  @ApiOperation({
    operationId: 'getReadiness',
    summary: 'The database answers and may serve',
    description:
      'For a readiness probe: 503 while the database does not answer within 2 s, or (on a Galera cluster) its node is not ready and Synced.',
  })
  @ApiOkResponse({ type: HealthResponse })
  @ApiErrorResponse(
    ErrorCode.ServiceUnavailable,
    'The database does not answer, or its Galera node is not ready and Synced',
    {
      message: 'Service Unavailable Exception',
    },
  )
  ready(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.database.pingCheck('database', { timeout: CHECK_TIMEOUT_MS }),
      () => this.databaseNode.check(CHECK_TIMEOUT_MS),
    ]);
  }
}
