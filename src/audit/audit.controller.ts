import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor } from '../common/auth/principal';
import { CurrentActor, RequireScope } from '../common/auth/require-scope.decorator';
import { API_TAGS } from '../common/http/api-tags';
import { ApiInvalidRequest, ApiNeedsDatabase } from '../common/http/error-envelope.dto';
import { NoStore } from '../common/http/no-store.decorator';
import { AuditQueryService } from '../two-factor/audit-query.service';
import { AuditPage, AuditQueryRequest } from './dto/audit.dto';

@ApiTags(API_TAGS.audit.name)
@RequireScope('audit:read')
@ApiNeedsDatabase()
@Controller('audit')
export class AuditController {
  constructor(private readonly audit: AuditQueryService) {}

  @Get()
  @NoStore()
  @ApiOperation({
    operationId: 'listAuditEvents',
    summary: 'Security events of your tenant, newest first',
    description:
      'Config changes, verifications (success, fail, replay, locked), backup codes, resets and session changes, ' +
      'each with actor, subject, outcome, request id and time. Never a secret or a code.',
  })
  @ApiOkResponse({ type: AuditPage })
  @ApiInvalidRequest('event', 'event must be an event name such as verify.fail', 'Matches')
  async list(@CurrentActor() actor: Actor, @Query() query: AuditQueryRequest): Promise<AuditPage> {
    const { items, total } = await this.audit.list(actor.tenant, query);
    return {
      items: items.map(({ tenant: _tenant, createdAt, ...event }) => ({
        ...event,
        createdAt: new Date(createdAt).toISOString(),
      })),
      total,
      page: query.page,
      perPage: query.perPage,
    };
  }
}
