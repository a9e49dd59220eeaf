import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { IsPageNumber, IsPageSize } from '../../common/http/paging.decorator';
import { IsSubjectIdText } from '../../common/http/subject-id.decorator';

export const PUBLIC_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const PUBLIC_ID_MESSAGE = 'public_id must be 1 to 64 letters, digits, _ or -';

export class CreateSessionRequest {
  @ApiProperty({ description: 'The user who passed 2FA', example: 'fgklr4zxdkloknhx307x', maxLength: 128 })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  @IsSubjectIdText()
  user_id!: string;

  @ApiPropertyOptional({
    description: 'Generated when absent (30 characters a-z0-9)',
    example: 'n6l7k4uqu4ljxn6e7khv5knpbgyes4',
  })
  @IsOptional()
  @IsString()
  @Matches(PUBLIC_ID, { message: PUBLIC_ID_MESSAGE })
  public_id?: string;

  @ApiProperty({ example: true })
  @IsBoolean()
  bool!: boolean;
}

export class UpdateSessionRequest {
  @ApiProperty({ example: 'w7ficho7s9dwsjep2sjl', maxLength: 128 })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  @IsSubjectIdText()
  user_id!: string;

  @ApiPropertyOptional({
    description: 'If sent, must equal the path (a session cannot be renamed)',
    example: '9gfpc39o8felzr8nk2cwjuokg903rc',
  })
  @IsOptional()
  @IsString()
  @Matches(PUBLIC_ID, { message: PUBLIC_ID_MESSAGE })
  public_id?: string;

  @ApiProperty({ example: true })
  @IsBoolean()
  bool!: boolean;
}

export class ListSessionsQuery {
  @ApiPropertyOptional({ enum: ['asc', 'desc'], default: 'desc', example: 'desc' })
  @IsOptional()
  @IsIn(['asc', 'desc'])
  order: 'asc' | 'desc' = 'desc';

  @ApiPropertyOptional({ enum: ['created_at'], default: 'created_at', example: 'created_at' })
  @IsOptional()
  @IsIn(['created_at'])
  orderBy = 'created_at' as const;

  @IsPageNumber()
  page = 1;

  @IsPageSize(20, 100)
  responsePerPage = 20;
}

export class SessionResponse {
  @ApiProperty({ example: 'g60haa51qyzcatp7g9vt' })
  user_id!: string;

  @ApiProperty({ example: 'v6uhto9meiwbcnrpwiptjbu4w6tpba' })
  public_id!: string;

  @ApiProperty({ example: true })
  bool!: boolean;

  @ApiProperty({ format: 'date-time', example: '2026-11-24T10:00:00.000Z' })
  created_at!: string;

  @ApiProperty({ format: 'date-time', example: '2026-11-24T11:00:00.000Z' })
  expires_at!: string;
}
