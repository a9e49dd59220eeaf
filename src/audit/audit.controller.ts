import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { IsPageNumber, IsPageSize } from '../common/http/paging.decorator';
import { IsSubjectIdText } from '../common/http/subject-id.decorator';
import { Actor } from '../common/auth/principal';
import { CurrentActor, RequireScope } from '../common/auth/require-scope.decorator';
import { AuditQueryService } from '../two-factor/audit-query.service';
import { NoStore } from '../common/http/no-store.decorator';

export class AuditQueryRequest {
  @ApiPropertyOptional({ description: 'A user id (partneruserid, agentid or session user_id)', example: 'pu-10042' })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  @IsSubjectIdText()
  subject?: string;

  @ApiPropertyOptional({ description: 'An event name', example: 'verify.fail' })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z_]+\.[a-z_]+$|^reset$/, { message: 'event must be an event name such as verify.fail' })
  event?: string;

  @IsPageNumber()
  page = 1;

  @IsPageSize(50, 200)
  perPage = 50;
}

export class AuditEventResponse {
  @ApiProperty({ example: '0b0e8a3c-55d1-4a5e-9d0b-3c5e1f7a9b21' }) id!: string;
  @ApiProperty({ example: 'verify.fail' }) event!: string;
  @ApiProperty({ enum: ['success', 'failure'], example: 'failure' }) outcome!: string;
  @ApiProperty({ nullable: true, example: 'login-service' }) actor!: string | null;
  @ApiProperty({ nullable: true, example: 'partner' }) subjectKind!: string | null;
  @ApiProperty({ nullable: true, example: 'pu-10042' }) subjectId!: string | null;
  @ApiProperty({ nullable: true, example: '3f1c9a6e-2b7d-4f7e-9a51-0c2f1d4b8e21' }) configId!: string | null;
  @ApiProperty({ nullable: true, example: 'req-7f3a' }) requestId!: string | null;
  @ApiProperty({ format: 'date-time', example: '2026-11-24T10:00:00.000Z' }) createdAt!: string;
}

export class AuditPage {
  @ApiProperty({ type: [AuditEventResponse] }) items!: AuditEventResponse[];
  @ApiProperty({ example: 1 }) total!: number;
  @ApiProperty({ example: 1 }) page!: number;
  @ApiProperty({ example: 50 }) perPage!: number;
}

@ApiTags('Operations')
@RequireScope('audit:read')
@Controller('audit')
export class AuditController {
  constructor(private readonly audit: AuditQueryService) {}

  @Get()
  @NoStore()
  @ApiOperation({ summary: 'Security events of your tenant, newest first (never a secret or a code)' })
  @ApiOkResponse({ type: AuditPage })
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
