import { ApiProperty } from '@nestjs/swagger';
import { IsBoolean } from 'class-validator';
import { EnumField, TextField } from '../../common/http/fields';
import { IsPageNumber, IsPageSize } from '../../common/http/paging.decorator';
import { SubjectIdField } from '../../common/http/subject-id.decorator';
import { SESSION_ORIGINS, SessionOrigin } from '../../two-factor/entities/two-factor-session.entity';

export const PUBLIC_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const PUBLIC_ID_MESSAGE = 'public_id must be 1 to 64 letters, digits, _ or -';

const USER_ID = { description: 'The user who passed 2FA', example: 'pu-10042' };

export class CreateSessionRequest {
  @SubjectIdField(USER_ID)
  user_id!: string;

  @TextField({
    optional: true,
    maxLength: 64,
    pattern: PUBLIC_ID,
    patternMessage: PUBLIC_ID_MESSAGE,
    description: 'Generated when absent (30 characters a-z0-9); 409 if it is taken',
  })
  public_id?: string;

  @ApiProperty({ type: Boolean, example: true })
  @IsBoolean()
  bool!: boolean;
}

export class UpdateSessionRequest {
  @SubjectIdField(USER_ID)
  user_id!: string;

  @TextField({
    optional: true,
    maxLength: 64,
    pattern: PUBLIC_ID,
    patternMessage: PUBLIC_ID_MESSAGE,
    description: 'If sent, must equal the path (a session cannot be renamed)',
  })
  public_id?: string;

  @ApiProperty({ type: Boolean, example: false })
  @IsBoolean()
  bool!: boolean;
}

export class ListSessionsQuery {
  @EnumField(['asc', 'desc'], { optional: true, default: 'desc', example: 'desc', description: 'By created_at' })
  order: 'asc' | 'desc' = 'desc';

  @EnumField(['created_at'], { optional: true, default: 'created_at', example: 'created_at' })
  orderBy = 'created_at' as const;

  @IsPageNumber()
  page = 1;

  @IsPageSize(20, 100)
  responsePerPage = 20;
}

export class SessionResponse {
  @ApiProperty({ type: String, example: 'pu-10042' })
  user_id!: string;

  @ApiProperty({ type: String, pattern: PUBLIC_ID.source, example: 'v6uhto9meiwbcnrpwiptjbu4w6tpba' })
  public_id!: string;

  @ApiProperty({
    type: String,
    enum: SESSION_ORIGINS,
    example: 'login',
    description:
      "`login`: made by a successful verification (its user_id cannot change; it can be revoked, not made true again); `api`: posted here",
  })
  origin!: SessionOrigin;

  @ApiProperty({ type: Boolean, example: true })
  bool!: boolean;

  @ApiProperty({ type: String, format: 'date-time', example: '2026-11-24T10:00:00.000Z' })
  created_at!: string;

  @ApiProperty({ type: String, format: 'date-time', example: '2026-11-24T11:00:00.000Z' })
  expires_at!: string;
}
