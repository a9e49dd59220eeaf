import { ErrorCode } from '../../common/errors/error-code';
import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Put, Query, Type } from '@nestjs/common';
import {
  ApiBody,
  ApiConflictResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { Actor } from '../../common/auth/principal';
import { CurrentActor, RequireScope } from '../../common/auth/require-scope.decorator';
import { DomainError } from '../../common/errors/domain-error';
import { defineDto } from '../../common/http/define-dto';
import { ErrorEnvelopeDto, errorExample } from '../../common/http/error-envelope.dto';
import { NoBody } from '../../common/http/no-body.decorator';
import { TwoFactorService } from '../two-factor.service';
import { configDtos } from './config-dto.factory';
import { toConfigResponse } from './config-response.mapper';
import { SubjectKindSpec } from './subject-kinds';
import { NoStore } from '../../common/http/no-store.decorator';

type JsonBody = Record<string, string | number | boolean | undefined>;

const uuid = new ParseUUIDPipe({ exceptionFactory: () => DomainError.invalidField('id', 'id must be a UUID') });

/** The admin API of one kind (partner-global or global): thin HTTP over TwoFactorService. */
export function configAdminController(spec: SubjectKindSpec): Type {
  const dto = configDtos(spec);
  const BackupCodesResponse = defineDto(`${spec.label}BackupCodes`, {
    codes: [
      ApiProperty({ type: [String], example: ['K7Q2M-9XH4D', 'P3N8W-T6ZRA'], description: '10 codes, shown once' }),
    ],
  });

  @ApiTags(`${spec.label} 2FA configs (admin)`)
  @RequireScope(spec.adminScope)
  @ApiNotFoundResponse({
    description: 'No such config in your tenant',
    type: ErrorEnvelopeDto,
    example: errorExample(ErrorCode.NotFound, 'No such config in your tenant'),
  })
  @Controller(spec.adminPrefixes)
  class ConfigAdminController {
    constructor(readonly twoFactor: TwoFactorService) {}

    @Post()
    @HttpCode(200)
    @NoStore()
    @ApiOperation({
      summary: `Enrol ${spec.kind === 'agent' ? 'an' : 'a'} ${spec.label}: a pending config with its secret and QR image`,
    })
    @ApiBody({ type: dto.create })
    @ApiOkResponse({ type: dto.config })
    @ApiConflictResponse({
      description: 'The user already has a config',
      type: ErrorEnvelopeDto,
      example: errorExample(ErrorCode.Conflict, 'The user already has a config'),
    })
    async create(@CurrentActor() actor: Actor, @Body() body: JsonBody): Promise<Record<string, unknown>> {
      const ids = [spec.idField, ...spec.idAliases].map((field) => body[field]).filter((id) => id !== undefined);
      if (new Set(ids).size > 1)
        throw DomainError.invalidField(spec.idField, `${spec.idField} and its alias name different users`);
      const view = await this.twoFactor.enrol(
        actor,
        { kind: spec.kind, subjectId: String(ids[0]) },
        body.account as string | undefined,
      );
      return toConfigResponse(spec, view);
    }

    @Get()
    @ApiOperation({ summary: `List ${spec.label} configs of your tenant` })
    @ApiOkResponse({ type: dto.configList })
    async list(@CurrentActor() actor: Actor, @Query() query: JsonBody): Promise<Record<string, unknown>> {
      const page = (query.page as number | undefined) ?? 1;
      const perPage = (query.perPage as number | undefined) ?? 20;
      const { items, total } = await this.twoFactor.list(actor, spec.kind, {
        subjectId: query[spec.idField] as string | undefined,
        status: query.status as 'pending' | 'active' | 'disabled' | undefined,
        page,
        perPage,
      });
      return { items: items.map((view) => toConfigResponse(spec, view)), total, page, perPage };
    }

    @Get(':id')
    @NoStore()
    @ApiOperation({ summary: 'One config; its secret and QR image only while pending' })
    @ApiOkResponse({ type: dto.config })
    async get(@CurrentActor() actor: Actor, @Param('id', uuid) id: string): Promise<Record<string, unknown>> {
      return toConfigResponse(spec, await this.twoFactor.get(actor, spec.kind, id));
    }

    @Put(':id')
    @NoStore()
    @ApiOperation({ summary: 'Rotate the secret (back to pending), disable/enable, or unlock' })
    @ApiBody({ type: dto.update })
    @ApiOkResponse({ type: dto.config })
    async update(
      @CurrentActor() actor: Actor,
      @Param('id', uuid) id: string,
      @Body() body: JsonBody,
    ): Promise<Record<string, unknown>> {
      const view = await this.twoFactor.update(actor, spec.kind, id, {
        rotateSecret: body.rotateSecret === true,
        enabled: body.enabled as boolean | undefined,
        unlock: body.unlock === true,
      });
      return toConfigResponse(spec, view);
    }

    @Delete(':id')
    @HttpCode(204)
    @ApiOperation({ summary: 'Delete the config and its backup codes' })
    @ApiNoContentResponse({ description: 'Deleted' })
    async remove(
      @CurrentActor() actor: Actor,
      @Param('id', uuid) id: string,
      @NoBody() _body: undefined,
    ): Promise<void> {
      await this.twoFactor.remove(actor, spec.kind, id);
    }

    @Post(':id/backupCodes')
    @HttpCode(200)
    @NoStore()
    @ApiOperation({ summary: '10 new backup codes, replacing all earlier ones; shown once, stored hashed' })
    @ApiOkResponse({ type: BackupCodesResponse })
    async backupCodes(
      @CurrentActor() actor: Actor,
      @Param('id', uuid) id: string,
      @NoBody() _body: undefined,
    ): Promise<{ codes: string[] }> {
      return { codes: await this.twoFactor.regenerateBackupCodes(actor, spec.kind, id) };
    }
  }
  // Validation reads the DTO from the parameter's design type; these are generated per kind.
  Reflect.defineMetadata('design:paramtypes', [Object, dto.create], ConfigAdminController.prototype, 'create');
  Reflect.defineMetadata('design:paramtypes', [Object, dto.list], ConfigAdminController.prototype, 'list');
  Reflect.defineMetadata('design:paramtypes', [Object, String, dto.update], ConfigAdminController.prototype, 'update');
  Object.defineProperty(ConfigAdminController, 'name', { value: `${spec.label}ConfigAdminController` });
  return ConfigAdminController;
}

/** The login verification route of one kind. */
export function loginController(spec: SubjectKindSpec): Type {
  const dto = configDtos(spec);
  const LoginResponse = defineDto(`${spec.label}LoginVerification`, {
    result: [ApiProperty({ type: String, enum: ['success', 'fail'], example: 'success' })],
    method: [ApiPropertyOptional({ type: String, enum: ['totp', 'backup'], example: 'totp' })],
    sessionId: [
      ApiPropertyOptional({
        type: String,
        description: 'public_id of the TwoFactorSession created on success',
        example: 'v6uhto9meiwbcnrpwiptjbu4w6tpba',
      }),
    ],
  });

  @ApiTags(`${spec.label} login`)
  @RequireScope(spec.loginScope)
  @Controller()
  class LoginController {
    constructor(readonly twoFactor: TwoFactorService) {}

    @Post(spec.loginPaths)
    @HttpCode(200)
    @NoStore()
    @ApiOperation({
      summary: `Verify ${spec.kind === 'agent' ? 'an' : 'a'} ${spec.label}'s TOTP or backup code at login`,
      description:
        'Unknown user, wrong, replayed and older-step codes all answer `{"result":"fail"}`. A code is accepted once. ' +
        'After too many consecutive failures the user is locked: 429 with Retry-After, even for a correct code. ' +
        'The colon may be sent percent-encoded (%3A).',
    })
    @ApiBody({ type: dto.login })
    @ApiOkResponse({ type: LoginResponse })
    @ApiTooManyRequestsResponse({
      description: 'Locked after too many failures',
      type: ErrorEnvelopeDto,
      example: errorExample(ErrorCode.TooManyAttempts, 'Locked after too many failures'),
    })
    verify(@CurrentActor() actor: Actor, @Body() body: JsonBody): Promise<unknown> {
      return this.twoFactor.verifyLogin(
        actor,
        { kind: spec.kind, subjectId: body[spec.idField] as string },
        body.code as string,
      );
    }
  }
  Reflect.defineMetadata('design:paramtypes', [Object, dto.login], LoginController.prototype, 'verify');
  Object.defineProperty(LoginController, 'name', { value: `${spec.label}LoginController` });
  return LoginController;
}
