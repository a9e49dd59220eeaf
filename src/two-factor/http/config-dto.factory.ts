import { Type } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type as TransformTo } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { defineDto } from '../../common/http/define-dto';
import { IsSubjectIdText } from '../../common/http/subject-id.decorator';
import { SubjectKindSpec } from './subject-kinds';

const TWO_FACTOR_STATUSES = ['pending', 'active', 'disabled'] as const;

const exampleIdOf = (spec: SubjectKindSpec): string => (spec.kind === 'partner' ? 'pu-10042' : 'agent-007');

function subjectIdField(spec: SubjectKindSpec, required: boolean): PropertyDecorator[] {
  const doc = {
    type: String,
    description: `${spec.label} id`,
    example: exampleIdOf(spec),
    maxLength: 128,
  };
  return [
    required ? ApiProperty(doc) : ApiPropertyOptional(doc),
    ...(required ? [] : [IsOptional()]),
    IsString(),
    MinLength(1),
    MaxLength(128),
    IsSubjectIdText(),
  ];
}

/** The request and query DTOs of one kind's admin and login routes. */
export function configDtos(
  spec: SubjectKindSpec,
): Record<'create' | 'list' | 'update' | 'login' | 'config' | 'configList', Type> {
  const hasAlias = (body: Record<string, unknown>) => spec.idAliases.some((alias) => body[alias] !== undefined);
  const createFields: Record<string, PropertyDecorator[]> = {
    [spec.idField]: [
      ValidateIf((body: Record<string, unknown>) => !hasAlias(body) || body[spec.idField] !== undefined),
      ...subjectIdField(spec, true),
    ],
    account: [
      ApiPropertyOptional({
        type: String,
        description: 'Account name shown in the authenticator app; defaults to the user id',
        example: 'alice@example.com',
      }),
      IsOptional(),
      IsString(),
      MinLength(1),
      MaxLength(128),
      Matches(/^[^:]*$/, { message: 'account must not contain a colon' }),
    ],
  };
  for (const alias of spec.idAliases) {
    createFields[alias] = [
      ApiPropertyOptional({ type: String, description: `Alias of ${spec.idField}`, example: 'agent-007' }),
      // Not IsOptional: that skips null too, and `{"partneruserid": null}` then enrolled a user named "null".
      ValidateIf((body: Record<string, unknown>) => body[alias] !== undefined),
      IsString(),
      MinLength(1),
      MaxLength(128),
      IsSubjectIdText(),
    ];
  }

  return {
    create: defineDto(`Create${spec.label}ConfigRequest`, createFields),
    list: defineDto(`List${spec.label}ConfigsQuery`, {
      [spec.idField]: subjectIdField(spec, false),
      status: [
        ApiPropertyOptional({ type: String, enum: TWO_FACTOR_STATUSES, example: 'active' }),
        IsOptional(),
        IsIn(TWO_FACTOR_STATUSES),
      ],
      page: [
        ApiPropertyOptional({ type: Number, default: 1, minimum: 1, example: 1 }),
        IsOptional(),
        TransformTo(() => Number),
        IsInt(),
        Min(1),
        Max(100000),
      ],
      perPage: [
        ApiPropertyOptional({ type: Number, default: 20, minimum: 1, maximum: 100, example: 20 }),
        IsOptional(),
        TransformTo(() => Number),
        IsInt(),
        Min(1),
        Max(100),
      ],
    }),
    update: defineDto(`Update${spec.label}ConfigRequest`, {
      rotateSecret: [
        ApiPropertyOptional({
          type: Boolean,
          description: 'true: a new secret; the config becomes pending',
          example: true,
        }),
        IsOptional(),
        IsIn([true], { message: 'rotateSecret can only be true' }),
      ],
      enabled: [
        ApiPropertyOptional({
          type: Boolean,
          description: 'false disables the config (every verification fails); true enables it again',
          example: false,
        }),
        IsOptional(),
        IsBoolean(),
      ],
      unlock: [
        ApiPropertyOptional({
          type: Boolean,
          description: 'true: clears the failure count and the lock',
          example: true,
        }),
        IsOptional(),
        IsIn([true], { message: 'unlock can only be true' }),
      ],
    }),
    config: configResponseDto(spec),
    configList: defineDto(`${spec.label}ConfigList`, {
      items: [ApiProperty({ type: () => [configResponseDto(spec)] })],
      total: [ApiProperty({ type: Number, example: 1 })],
      page: [ApiProperty({ type: Number, example: 1 })],
      perPage: [ApiProperty({ type: Number, example: 20 })],
    }),
    login: defineDto(`Verify${spec.label}CodeRequest`, {
      [spec.idField]: subjectIdField(spec, true),
      code: [
        ApiProperty({
          type: String,
          description: 'A TOTP code (6 or 8 digits) or an unused backup code',
          example: '081804',
        }),
        IsString(),
        MinLength(6),
        MaxLength(16),
      ],
    }),
  };
}

const responseDtos = new Map<string, Type>();

/** Swagger shape of a config as the admin routes return it. */
function configResponseDto(spec: SubjectKindSpec): Type {
  const existing = responseDtos.get(spec.label);
  if (existing) return existing;
  const created = defineDto(`${spec.label}Config`, {
    id: [ApiProperty({ type: String, format: 'uuid', example: '3f1c9a6e-2b7d-4f7e-9a51-0c2f1d4b8e21' })],
    [spec.idField]: [ApiProperty({ type: String, example: exampleIdOf(spec) })],
    status: [ApiProperty({ type: String, enum: TWO_FACTOR_STATUSES, example: 'pending' })],
    createdAt: [ApiProperty({ type: String, format: 'date-time', example: '2026-11-24T10:00:00.000Z' })],
    activatedAt: [ApiProperty({ type: String, format: 'date-time', nullable: true, example: null })],
    lockedUntil: [
      ApiProperty({
        type: String,
        format: 'date-time',
        nullable: true,
        example: null,
        description: 'Set while locked after too many failures',
      }),
    ],
    backupCodesRemaining: [ApiProperty({ type: Number, example: 10 })],
    secretKey: [
      ApiPropertyOptional({
        type: String,
        description: 'Only while pending',
        example: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
      }),
    ],
    qrcodeUrl: [
      ApiPropertyOptional({
        type: String,
        description: 'Only while pending: PNG QR of otpauthUrl',
        example: 'data:image/png;base64,iVBORw0KGgo...',
      }),
    ],
    otpauthUrl: [
      ApiPropertyOptional({
        type: String,
        description: 'Only while pending',
        example: `otpauth://totp/twofa:${exampleIdOf(spec)}?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=twofa&algorithm=SHA1&digits=6&period=30`,
      }),
    ],
  });
  responseDtos.set(spec.label, created);
  return created;
}
