import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiExcludeController, ApiTags } from '@nestjs/swagger';
import { Actor } from '../common/auth/principal';
import { CurrentActor, RequireScope } from '../common/auth/require-scope.decorator';
import { API_TAGS } from '../common/http/api-tags';
import { ApiNeedsDatabase } from '../common/http/error-envelope.dto';
import { NoBody } from '../common/http/no-body.decorator';
import { NoStore } from '../common/http/no-store.decorator';
import {
  ApiDeleteConfig,
  ApiEnrolConfig,
  ApiGetConfig,
  ApiListConfigs,
  ApiRegenerateBackupCodes,
  ApiUpdateConfig,
} from '../two-factor/http/config-api.docs';
import { CONFIG_ID } from '../two-factor/http/config-id.pipe';
import { toConfigPage, toConfigResponse } from '../two-factor/http/config-response.mapper';
import { BackupCodesResponse, UpdateConfigRequest } from '../two-factor/http/config.dto';
import { TwoFactorConfigService } from '../two-factor/two-factor-config.service';
import {
  CreatePartnerUserConfigRequest,
  ListPartnerUserConfigsQuery,
  PartnerUserConfigPage,
  PartnerUserConfigResponse,
} from './dto/partner-user-config.dto';

/** Partner users' 2FA configs, for partner administrators. */
@ApiTags(API_TAGS.partnerConfigs.name)
@RequireScope('partner:admin')
@ApiNeedsDatabase()
@Controller('partnerglobalapi/2faConfig')
export class PartnerGlobalController {
  constructor(private readonly twoFactor: TwoFactorConfigService) {}

  @Post()
  @HttpCode(200)
  @NoStore()
  @ApiEnrolConfig({
    operationId: 'createPartnerUserConfig',
    alias: 'POST /partnerglobal/2faConfig',
    who: 'a partner user',
    request: CreatePartnerUserConfigRequest,
    response: PartnerUserConfigResponse,
    example: { partneruserid: 'pu-10042', account: 'alice@example.com' },
  })
  async create(
    @CurrentActor() actor: Actor,
    @Body() body: CreatePartnerUserConfigRequest,
  ): Promise<PartnerUserConfigResponse> {
    const subject = { kind: 'partner', subjectId: body.partneruserid } as const;
    return toConfigResponse('partneruserid', await this.twoFactor.enrol(actor, subject, body.account));
  }

  @Get()
  @ApiListConfigs({
    operationId: 'listPartnerUserConfigs',
    alias: 'GET /partnerglobal/2faConfig',
    who: 'partner-user',
    page: PartnerUserConfigPage,
  })
  async list(
    @CurrentActor() actor: Actor,
    @Query() query: ListPartnerUserConfigsQuery,
  ): Promise<PartnerUserConfigPage> {
    const filter = { subjectId: query.partneruserid, status: query.status, page: query.page, perPage: query.perPage };
    return toConfigPage('partneruserid', await this.twoFactor.list(actor, 'partner', filter), query);
  }

  @Get(':id')
  @NoStore()
  @ApiGetConfig({
    operationId: 'getPartnerUserConfig',
    alias: 'GET /partnerglobal/2faConfig/{id}',
    response: PartnerUserConfigResponse,
  })
  async get(@CurrentActor() actor: Actor, @Param('id', CONFIG_ID) id: string): Promise<PartnerUserConfigResponse> {
    return toConfigResponse('partneruserid', await this.twoFactor.get(actor, 'partner', id));
  }

  @Put(':id')
  @NoStore()
  @ApiUpdateConfig({
    operationId: 'updatePartnerUserConfig',
    alias: 'PUT /partnerglobal/2faConfig/{id}',
    response: PartnerUserConfigResponse,
  })
  async update(
    @CurrentActor() actor: Actor,
    @Param('id', CONFIG_ID) id: string,
    @Body() body: UpdateConfigRequest,
  ): Promise<PartnerUserConfigResponse> {
    return toConfigResponse('partneruserid', await this.twoFactor.update(actor, 'partner', id, body));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiDeleteConfig({ operationId: 'deletePartnerUserConfig', alias: 'DELETE /partnerglobal/2faConfig/{id}' })
  async remove(
    @CurrentActor() actor: Actor,
    @Param('id', CONFIG_ID) id: string,
    @NoBody() _body: undefined,
  ): Promise<void> {
    await this.twoFactor.remove(actor, 'partner', id);
  }

  @Post(':id/backupCodes')
  @HttpCode(200)
  @NoStore()
  @ApiRegenerateBackupCodes({
    operationId: 'regeneratePartnerUserBackupCodes',
    alias: 'POST /partnerglobal/2faConfig/{id}/backupCodes',
  })
  async backupCodes(
    @CurrentActor() actor: Actor,
    @Param('id', CONFIG_ID) id: string,
    @NoBody() _body: undefined,
  ): Promise<BackupCodesResponse> {
    return { codes: await this.twoFactor.regenerateBackupCodes(actor, 'partner', id) };
  }
}

/** Seed 002's older prefix: the same routes, documented once under /partnerglobalapi. */
@ApiExcludeController()
@RequireScope('partner:admin')
@Controller('partnerglobal/2faConfig')
export class PartnerGlobalAliasController extends PartnerGlobalController {}
