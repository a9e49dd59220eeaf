import { ApiProperty } from '@nestjs/swagger';
import { TextField } from '../../common/http/fields';
import { IsPageNumber, IsPageSize } from '../../common/http/paging.decorator';
import { SubjectIdField } from '../../common/http/subject-id.decorator';

export class AuditQueryRequest {
  @SubjectIdField({
    optional: true,
    description: 'A user id (partneruserid, agentid or session user_id)',
    example: 'pu-10042',
  })
  subject?: string;

  @TextField({
    optional: true,
    maxLength: 48,
    pattern: /^[a-z_]+\.[a-z_]+$|^reset$/,
    patternMessage: 'event must be an event name such as verify.fail',
    description: 'An event name, e.g. `config.created`, `verify.success`, `verify.fail`, `reset`',
    example: 'verify.success',
  })
  event?: string;

  @IsPageNumber()
  page = 1;

  @IsPageSize(50, 200)
  perPage = 50;
}

/** A nullable text field of an event: absent facts are null, never left out. */
const nullableText = (example: string, description?: string) =>
  ApiProperty({ type: String, nullable: true, example, ...(description ? { description } : {}) });

export class AuditEventResponse {
  @ApiProperty({ type: String, format: 'uuid', example: '0b0e8a3c-55d1-4a5e-9d0b-3c5e1f7a9b21' })
  id!: string;

  @ApiProperty({ type: String, example: 'verify.fail' })
  event!: string;

  @ApiProperty({ type: String, enum: ['success', 'failure'], example: 'failure' })
  outcome!: string;

  @nullableText('login-service', "The token's sub of the caller")
  actor!: string | null;

  @nullableText('partner', 'What subjectId names: `partner`, `agent` (users), `webhook` (a subscription)')
  subjectKind!: string | null;

  @nullableText('pu-10042')
  subjectId!: string | null;

  @nullableText('3f1c9a6e-2b7d-4f7e-9a51-0c2f1d4b8e21', 'The config, when there was one')
  configId!: string | null;

  @nullableText('req-7f3a', 'The X-Request-Id of the request that made the event')
  requestId!: string | null;

  @nullableText('3c1f9a2b', 'The encryption key id the event is about (secret.integrity_error), else null')
  keyId!: string | null;

  @ApiProperty({ type: String, format: 'date-time', example: '2026-11-24T10:00:00.000Z' })
  createdAt!: string;
}

export class AuditPage {
  @ApiProperty({ type: [AuditEventResponse] })
  items!: AuditEventResponse[];

  @ApiProperty({ type: 'integer', minimum: 0, description: 'Events matching the filters', example: 1 })
  total!: number;

  @ApiProperty({ type: 'integer', minimum: 1, example: 1 })
  page!: number;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: 200, example: 50 })
  perPage!: number;
}
