import {
  applyDecorators,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  PipeTransform,
  Post,
  Put,
  Query,
  Res,
} from '@nestjs/common';
import {
  ApiBody,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Actor } from '../common/auth/principal';
import { CurrentActor, RequireScope } from '../common/auth/require-scope.decorator';
import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import { API_TAGS } from '../common/http/api-tags';
import { ApiErrorResponse, ApiInvalidRequest, ApiNeedsDatabase, ApiReadsBody } from '../common/http/error-envelope.dto';
import { NoBody } from '../common/http/no-body.decorator';
import { NoStore } from '../common/http/no-store.decorator';
import { SessionView, TwoFactorSessionService } from '../two-factor/two-factor-session.service';
import {
  CreateSessionRequest,
  ListSessionsQuery,
  PUBLIC_ID,
  PUBLIC_ID_MESSAGE,
  SessionResponse,
  UpdateSessionRequest,
} from './dto/session.dto';

/** A public_id in the path is shaped like every stored one, or it is a 400 naming it (as config ids are). */
const publicIdParam: PipeTransform<string, string> = {
  transform(value: string): string {
    if (!PUBLIC_ID.test(value)) throw DomainError.invalidField('public_id', PUBLIC_ID_MESSAGE);
    return value;
  },
};

/** Swagger of the `public_id` path parameter and the answers of a route that looks one up. */
function ApiPublicIdPath(): MethodDecorator {
  return applyDecorators(
    ApiParam({ name: 'public_id', schema: { type: 'string', pattern: PUBLIC_ID.source, maxLength: 64 } }),
    ApiInvalidRequest('public_id', PUBLIC_ID_MESSAGE, 'Invalid'),
    ApiErrorResponse(ErrorCode.NotFound, 'No such live session in your tenant', { message: 'Session not found' }),
  );
}

function toResponse(view: SessionView): SessionResponse {
  return {
    user_id: view.userId,
    public_id: view.publicId,
    origin: view.origin,
    bool: view.bool,
    created_at: new Date(view.createdAt).toISOString(),
    expires_at: new Date(view.expiresAt).toISOString(),
  };
}

@ApiTags(API_TAGS.sessions.name)
@RequireScope('sessions:admin')
@ApiNeedsDatabase()
@Controller('TwoFactorSession')
export class SessionsController {
  constructor(private readonly sessions: TwoFactorSessionService) {}

  @Post()
  @HttpCode(201)
  @NoStore()
  @ApiOperation({
    operationId: 'createSession',
    summary: 'Create a session record',
    description: 'A successful login makes one itself; this is for systems that record sessions of their own.',
  })
  @ApiBody({ type: CreateSessionRequest, examples: { session: { value: { user_id: 'pu-10042', bool: true } } } })
  @ApiCreatedResponse({ type: SessionResponse })
  @ApiInvalidRequest('bool', 'bool must be a boolean value', 'IsBoolean')
  @ApiErrorResponse(ErrorCode.Conflict, 'The public_id is taken')
  @ApiReadsBody()
  async create(@CurrentActor() actor: Actor, @Body() body: CreateSessionRequest): Promise<SessionResponse> {
    return toResponse(
      await this.sessions.create(actor, { userId: body.user_id, publicId: body.public_id, bool: body.bool }),
    );
  }

  @Get()
  @NoStore()
  @ApiOperation({
    operationId: 'listSessions',
    summary: 'List live sessions',
    description: 'A JSON array of one page; the total of live sessions is in the `X-Total-Count` header.',
  })
  @ApiOkResponse({
    type: [SessionResponse],
    headers: {
      'X-Total-Count': { description: 'All live sessions of your tenant', schema: { type: 'integer', minimum: 0 } },
    },
  })
  @ApiInvalidRequest('responsePerPage', 'responsePerPage must not be greater than 100', 'Max')
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
  @ApiOperation({
    operationId: 'getSession',
    summary: 'One live session',
    description: 'Expired sessions are gone (404).',
  })
  @ApiOkResponse({ type: SessionResponse })
  @ApiPublicIdPath()
  async get(
    @CurrentActor() actor: Actor,
    @Param('public_id', publicIdParam) publicId: string,
  ): Promise<SessionResponse> {
    return toResponse(await this.sessions.get(actor, publicId));
  }

  @Put(':public_id')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'updateSession',
    summary: 'Update user_id and bool',
    description:
      'A `public_id` in the body must equal the one in the path. A session a login made (`origin: login`) ' +
      'keeps its `user_id` and may be revoked (`bool: false`) but not made true again: 409 naming the field.',
  })
  @ApiBody({ type: UpdateSessionRequest, examples: { session: { value: { user_id: 'pu-10042', bool: false } } } })
  @ApiNoContentResponse({ description: 'Updated' })
  @ApiErrorResponse(ErrorCode.Conflict, "A login's session: another user_id, or bool true after a revocation", {
    message: "A login's session belongs to the user who logged in",
    fieldName: 'user_id',
    fieldErrorCode: 'LoginSession',
  })
  @ApiPublicIdPath()
  @ApiReadsBody()
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
  @ApiOperation({ operationId: 'deleteSession', summary: 'Delete a session', description: 'No body, or `{}`.' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiPublicIdPath()
  @ApiReadsBody()
  async remove(
    @CurrentActor() actor: Actor,
    @Param('public_id', publicIdParam) publicId: string,
    @NoBody() _body: undefined,
  ): Promise<void> {
    await this.sessions.remove(actor, publicId);
  }
}
