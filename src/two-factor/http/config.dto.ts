import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional } from 'class-validator';
import { EnumField } from '../../common/http/fields';
import { IsPageNumber, IsPageSize } from '../../common/http/paging.decorator';
import { BACKUP_CODES_PER_SET } from '../crypto/backup-codes';
import type { TwoFactorStatus } from '../entities/two-factor-config.entity';

/**
 * The DTOs the partner-user and agent APIs share. Each module's own DTOs (in its dto/ folder) add the
 * kind's id field (partneruserid or agentid) to these.
 */

export const TWO_FACTOR_STATUSES = ['pending', 'active', 'disabled'] as const satisfies readonly TwoFactorStatus[];

/** A config as the admin routes return it, without the kind's id field. */
export abstract class ConfigResponseFields {
  @ApiProperty({ type: String, format: 'uuid', example: '3f1c9a6e-2b7d-4f7e-9a51-0c2f1d4b8e21' })
  id!: string;

  @ApiProperty({ type: String, enum: TWO_FACTOR_STATUSES, example: 'pending' })
  status!: TwoFactorStatus;

  @ApiProperty({ type: String, format: 'date-time', example: '2026-11-24T10:00:00.000Z' })
  createdAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null })
  activatedAt!: string | null;

  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    example: null,
    description: 'Set while a timed lock after too many failures lasts (null when hard-locked)',
  })
  lockedUntil!: string | null;

  @ApiProperty({
    type: Boolean,
    example: false,
    description: 'Locked after LOCKOUT_HARD_LIMIT consecutive failures: every code answers 429 until an unlock',
  })
  hardLocked!: boolean;

  @ApiProperty({
    type: 'integer',
    minimum: 0,
    example: 0,
    description: 'Failed codes since the last success or unlock, counted across locks',
  })
  consecutiveFailures!: number;

  @ApiProperty({ type: 'integer', minimum: 0, maximum: BACKUP_CODES_PER_SET, example: 10 })
  backupCodesRemaining!: number;

  @ApiPropertyOptional({ type: String, description: 'Only while pending', example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' })
  secretKey?: string;

  @ApiPropertyOptional({
    type: String,
    description: 'Only while pending: PNG QR of otpauthUrl',
    example: 'data:image/png;base64,iVBORw0KGgo...',
  })
  qrcodeUrl?: string;

  @ApiPropertyOptional({
    type: String,
    description: 'Only while pending',
    example:
      'otpauth://totp/twofa:alice%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=twofa&algorithm=SHA1&digits=6&period=30',
  })
  otpauthUrl?: string;
}

/** One page of configs, without its items (whose type names the kind's id field). */
export abstract class ConfigPageFields {
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Configs matching the filters', example: 1 })
  total!: number;

  @ApiProperty({ type: 'integer', minimum: 1, example: 1 })
  page!: number;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: 100, example: 20 })
  perPage!: number;
}

/** The filters and paging of a config list, without the kind's id filter. */
export abstract class ConfigListQueryFields {
  @EnumField(TWO_FACTOR_STATUSES, { optional: true, example: 'active' })
  status?: TwoFactorStatus;

  @IsPageNumber()
  page = 1;

  @IsPageSize(20, 100)
  perPage = 20;
}

/** Each field is a separate change; send only the ones you mean (rotating and disabling at once is allowed). */
export class UpdateConfigRequest {
  @ApiPropertyOptional({
    type: Boolean,
    enum: [true],
    description: 'true: a new secret; the config becomes pending until its first good code',
  })
  @IsOptional()
  @IsIn([true], { message: 'rotateSecret can only be true' })
  rotateSecret?: true;

  @ApiPropertyOptional({
    type: Boolean,
    description: 'false disables the config (every verification fails); true enables it again',
  })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ type: Boolean, enum: [true], description: 'true: clears the failure count and the lock' })
  @IsOptional()
  @IsIn([true], { message: 'unlock can only be true' })
  unlock?: true;
}

export class BackupCodesResponse {
  @ApiProperty({
    type: [String],
    minItems: BACKUP_CODES_PER_SET,
    maxItems: BACKUP_CODES_PER_SET,
    description: 'The new codes (XXXXX-XXXXX), shown once',
    example: [
      'K7Q2M-9XH4D',
      'P3N8W-T6ZRA',
      'C4RW1-XJ0NE',
      'H8TQZ-2MV5K',
      '9YB3D-QF6NP',
      'VR7KX-1GZ4A',
      'M2WT8-PX5HC',
      'E6N0Q-KD3JY',
      'ZT4HB-8RW1M',
      '5QJXC-VN7GD',
    ],
  })
  codes!: string[];
}

export class LoginVerificationResponse {
  @ApiProperty({ type: String, enum: ['success', 'fail'], example: 'success' })
  result!: 'success' | 'fail';

  @ApiPropertyOptional({ type: String, enum: ['totp', 'backup'], example: 'totp' })
  method?: 'totp' | 'backup';

  @ApiPropertyOptional({
    type: String,
    pattern: '^[A-Za-z0-9_-]{1,64}$',
    description: 'public_id of the TwoFactorSession created on success',
    example: 'v6uhto9meiwbcnrpwiptjbu4w6tpba',
  })
  sessionId?: string;
}
