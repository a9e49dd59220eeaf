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
  AgentConfigPage,
  AgentConfigResponse,
  agentIdOf,
  CreateAgentConfigRequest,
  ListAgentConfigsQuery,
} from './dto/agent-config.dto';

/** Agents' 2FA configs, for agent administrators. */
@ApiTags(API_TAGS.agentConfigs.name)
@RequireScope('agent:admin')
@ApiNeedsDatabase()
@Controller('globalapi/2faConfig')
export class GlobalApiController {
  constructor(private readonly twoFactor: TwoFactorConfigService) {}

  @Post()
  @HttpCode(200)
  @NoStore()
  @ApiEnrolConfig({
    operationId: 'createAgentConfig',
    alias: 'POST /global/2faConfig',
    who: 'an agent',
    request: CreateAgentConfigRequest,
    response: AgentConfigResponse,
    example: { agentid: 'agent-007', account: 'bob@example.com' },
  })
  async create(@CurrentActor() actor: Actor, @Body() body: CreateAgentConfigRequest): Promise<AgentConfigResponse> {
    const subject = { kind: 'agent', subjectId: agentIdOf(body) } as const;
    return toConfigResponse('agentid', await this.twoFactor.enrol(actor, subject, body.account));
  }

  @Get()
  @ApiListConfigs({
    operationId: 'listAgentConfigs',
    alias: 'GET /global/2faConfig',
    who: 'agent',
    page: AgentConfigPage,
  })
  async list(@CurrentActor() actor: Actor, @Query() query: ListAgentConfigsQuery): Promise<AgentConfigPage> {
    const filter = { subjectId: query.agentid, status: query.status, page: query.page, perPage: query.perPage };
    return toConfigPage('agentid', await this.twoFactor.list(actor, 'agent', filter), query);
  }

  @Get(':id')
  @NoStore()
  @ApiGetConfig({ operationId: 'getAgentConfig', alias: 'GET /global/2faConfig/{id}', response: AgentConfigResponse })
  async get(@CurrentActor() actor: Actor, @Param('id', CONFIG_ID) id: string): Promise<AgentConfigResponse> {
    return toConfigResponse('agentid', await this.twoFactor.get(actor, 'agent', id));
  }

  @Put(':id')
  @NoStore()
  @ApiUpdateConfig({
    operationId: 'updateAgentConfig',
    alias: 'PUT /global/2faConfig/{id}',
    response: AgentConfigResponse,
  })
  async update(
    @CurrentActor() actor: Actor,
    @Param('id', CONFIG_ID) id: string,
    @Body() body: UpdateConfigRequest,
  ): Promise<AgentConfigResponse> {
    return toConfigResponse('agentid', await this.twoFactor.update(actor, 'agent', id, body));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiDeleteConfig({ operationId: 'deleteAgentConfig', alias: 'DELETE /global/2faConfig/{id}' })
  async remove(
    @CurrentActor() actor: Actor,
    @Param('id', CONFIG_ID) id: string,
    @NoBody() _body: undefined,
  ): Promise<void> {
    await this.twoFactor.remove(actor, 'agent', id);
  }

  @Post(':id/backupCodes')
  @HttpCode(200)
  @NoStore()
  @ApiRegenerateBackupCodes({
    operationId: 'regenerateAgentBackupCodes',
    alias: 'POST /global/2faConfig/{id}/backupCodes',
  })
  async backupCodes(
    @CurrentActor() actor: Actor,
    @Param('id', CONFIG_ID) id: string,
    @NoBody() _body: undefined,
  ): Promise<BackupCodesResponse> {
    return { codes: await this.twoFactor.regenerateBackupCodes(actor, 'agent', id) };
  }
}

/** Seed 002's older prefix: the same routes, documented once under /globalapi. */
@ApiExcludeController()
@RequireScope('agent:admin')
@Controller('global/2faConfig')
export class GlobalApiAliasController extends GlobalApiController {}
