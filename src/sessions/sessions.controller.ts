import { ErrorCode } from '../common/errors/error-code';
import { Body, Controller, Delete, Get, HttpCode, Param, PipeTransform, Post, Put, Query, Res } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Actor } from '../common/auth/principal';
import { CurrentActor, RequireScope } from '../common/auth/require-scope.decorator';
import { DomainError } from '../common/errors/domain-error';
import { ErrorEnvelopeDto, errorExample } from '../common/http/error-envelope.dto';
import { SessionView, TwoFactorSessionService } from '../two-factor/two-factor-session.service';
import { NoBody } from '../common/http/no-body.decorator';
import {
  CreateSessionRequest,
  ListSessionsQuery,
  PUBLIC_ID,
  PUBLIC_ID_MESSAGE,
  SessionResponse,
  UpdateSessionRequest,
} from './dto/session.dto';
import { NoStore } from '../common/http/no-store.decorator';

/** A public_id in the path is shaped like every stored one, or it is a 400 naming it (as config ids are). */
const publicIdParam: PipeTransform<string, string> = {
  transform(value: string): string {
    if (!PUBLIC_ID.test(value)) throw DomainError.invalidField('public_id', PUBLIC_ID_MESSAGE);
    return value;
  },
};

function toResponse(view: SessionView): SessionResponse {
  return {
    user_id: view.userId,
    public_id: view.publicId,
    bool: view.bool,
    created_at: new Date(view.createdAt).toISOString(),
    expires_at: new Date(view.expiresAt).toISOString(),
  };
}

@ApiTags('TwoFactorSession')
@RequireScope('sessions:admin')
@ApiNotFoundResponse({
  description: 'No such live session in your tenant',
  type: ErrorEnvelopeDto,
  example: errorExample(ErrorCode.NotFound, 'No such live session in your tenant'),
})
@Controller('TwoFactorSession')
export class SessionsController {
  constructor(private readonly sessions: TwoFactorSessionService) {}

  @Post()
  @HttpCode(201)
  @NoStore()
  @ApiOperation({ summary: 'Create a session record (public_id generated when absent)' })
  @ApiCreatedResponse({ type: SessionResponse })
  async create(@CurrentActor() actor: Actor, @Body() body: CreateSessionRequest): Promise<SessionResponse> {
    return toResponse(
      await this.sessions.create(actor, { userId: body.user_id, publicId: body.public_id, bool: body.bool }),
    );
  }

  @Get()
  @NoStore()
  @ApiOperation({ summary: 'List live sessions; the total is in the X-Total-Count header' })
  @ApiOkResponse({
    type: [SessionResponse],
    headers: { 'X-Total-Count': { description: 'All live sessions of your tenant', schema: { type: 'integer' } } },
  })
  async list(
    @CurrentActor() actor: Actor,
    @Query() query: ListSessionsQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SessionResponse[]> {
    const { items, total } = await this.sessions.list(actor, {
      order: query.order,
      page: query.page,
      perPage: query.responsePerPage,
    });
    void reply.header('X-Total-Count', String(total));
    return items.map(toResponse);
  }

  @Get(':public_id')
  @NoStore()
  @ApiOperation({ summary: 'One live session' })
  @ApiOkResponse({ type: SessionResponse })
  async get(
    @CurrentActor() actor: Actor,
    @Param('public_id', publicIdParam) publicId: string,
  ): Promise<SessionResponse> {
    return toResponse(await this.sessions.get(actor, publicId));
  }

  @Put(':public_id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Update user_id and bool' })
  @ApiNoContentResponse({ description: 'Updated' })
  async update(
    @CurrentActor() actor: Actor,
    @Param('public_id', publicIdParam) publicId: string,
    @Body() body: UpdateSessionRequest,
  ): Promise<void> {
    if (body.public_id !== undefined && body.public_id !== publicId) {
      throw DomainError.invalidField('public_id', 'public_id in the body must equal the one in the path');
    }
    await this.sessions.update(actor, publicId, { userId: body.user_id, bool: body.bool });
  }

  @Delete(':public_id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a session' })
  @ApiNoContentResponse({ description: 'Deleted' })
  async remove(
    @CurrentActor() actor: Actor,
    @Param('public_id', publicIdParam) publicId: string,
    @NoBody() _body: undefined,
  ): Promise<void> {
    await this.sessions.remove(actor, publicId);
  }
}
