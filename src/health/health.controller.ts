import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { DatabaseNodeIndicator } from './database-node.indicator';

const CHECK_TIMEOUT_MS = 2000;

@ApiTags('Operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly databaseNode: DatabaseNodeIndicator,
  ) {}

  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'The process is up' })
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'The database answers and may serve (503 when it does not)' })
  @ApiOkResponse({ description: 'Ready' })
  @ApiServiceUnavailableResponse({
    description: 'The database does not answer, or its Galera node is not ready and Synced',
  })
  ready(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.database.pingCheck('database', { timeout: CHECK_TIMEOUT_MS }),
      () => this.databaseNode.check(CHECK_TIMEOUT_MS),
    ]);
  }
}
