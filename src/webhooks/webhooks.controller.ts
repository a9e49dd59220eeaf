import {
  applyDecorators,
  Body,
  Controller,
  Delete,
  Get,
  Header,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { Actor } from '../common/auth/principal';
import { CurrentActor, RequireScope } from '../common/auth/require-scope.decorator';
import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import { API_TAGS } from '../common/http/api-tags';
import { ApiErrorResponse, ApiInvalidRequest, ApiNeedsDatabase, ApiReadsBody } from '../common/http/error-envelope.dto';
import { NoBody } from '../common/http/no-body.decorator';
import { NoStore } from '../common/http/no-store.decorator';
import {
  CreatedWebhookResponse,
  CreateWebhookRequest,
  DeliveryPage,
  DeliveryResponse,
  ListDeliveriesQuery,
  ListWebhooksQuery,
  TestDeliveryResponse,
  WebhookPage,
  WebhookResponse,
} from './dto/webhook.dto';
import { DeliveryView, MAX_SUBSCRIPTIONS_PER_TENANT, SubscriptionView, WebhooksService } from './webhooks.service';

/** Swagger of the subscription id in the path: a UUID, or 400; one of your tenant's, or 404. */
function ApiSubscriptionPath(): MethodDecorator {
  return applyDecorators(
    ApiParam({ name: 'id', description: 'The subscription id', schema: { type: 'string', format: 'uuid' } }),
    ApiInvalidRequest('id', 'id must be a UUID'),
    ApiErrorResponse(ErrorCode.NotFound, 'No such subscription in your tenant', {
      message: 'Webhook subscription not found',
    }),
  );
}

const uuid = new ParseUUIDPipe({ exceptionFactory: () => DomainError.invalidField('id', 'id must be a UUID') });
const isoOrNull = (time: number | null): string | null => (time === null ? null : new Date(time).toISOString());

function toResponse(view: SubscriptionView): WebhookResponse {
  return { id: view.id, url: view.url, events: view.events, createdAt: new Date(view.createdAt).toISOString() };
}

function toDeliveryResponse(view: DeliveryView): DeliveryResponse {
  return {
    ...view,
    createdAt: new Date(view.createdAt).toISOString(),
    lastAttemptAt: isoOrNull(view.lastAttemptAt),
    nextAttemptAt: isoOrNull(view.nextAttemptAt),
    deliveredAt: isoOrNull(view.deliveredAt),
  };
}

@ApiTags(API_TAGS.webhooks.name)
@RequireScope('webhooks:admin')
@ApiNeedsDatabase()
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @HttpCode(201)
  @NoStore()
  @ApiOperation({
    operationId: 'createWebhook',
    summary: 'Subscribe a URL to events of your tenant; the signing secret is in this answer only',
    description:
      'Deliveries follow Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature v1 HMAC-SHA256). The URL is refused (400 naming url) when it is not https, or its host resolves to a loopback, private, link-local or metadata address.',
  })
  @ApiCreatedResponse({ type: CreatedWebhookResponse })
  @ApiInvalidRequest('url', 'url must use https', 'NotHttps')
  @ApiErrorResponse(ErrorCode.Conflict, `The tenant has ${MAX_SUBSCRIPTIONS_PER_TENANT} subscriptions already`, {
    message: `A tenant has at most ${MAX_SUBSCRIPTIONS_PER_TENANT} webhook subscriptions`,
  })
  @ApiReadsBody()
  async create(@CurrentActor() actor: Actor, @Body() body: CreateWebhookRequest): Promise<CreatedWebhookResponse> {
    const { subscription, secret } = await this.webhooks.create(actor, body.url, body.events);
    return { ...toResponse(subscription), secret };
  }

  @Get()
  @ApiOperation({
    operationId: 'listWebhooks',
    summary: 'Your subscriptions',
    description: 'Oldest first, never their secrets.',
  })
  @ApiOkResponse({ type: WebhookPage })
  @ApiInvalidRequest('perPage', 'perPage must not be greater than 100', 'Max')
  async list(@CurrentActor() actor: Actor, @Query() query: ListWebhooksQuery): Promise<WebhookPage> {
    const { items, total } = await this.webhooks.list(actor, query.page, query.perPage);
    return { items: items.map(toResponse), total, page: query.page, perPage: query.perPage };
  }

  @Get(':id')
  @ApiOperation({ operationId: 'getWebhook', summary: 'One subscription', description: 'Never its secret.' })
  @ApiOkResponse({ type: WebhookResponse })
  @ApiSubscriptionPath()
  async get(@CurrentActor() actor: Actor, @Param('id', uuid) id: string): Promise<WebhookResponse> {
    return toResponse(await this.webhooks.get(actor, id));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    operationId: 'deleteWebhook',
    summary: 'Unsubscribe',
    description: 'The subscription and its deliveries, sent or not, are deleted. No body, or `{}`.',
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiSubscriptionPath()
  @ApiReadsBody()
  async remove(@CurrentActor() actor: Actor, @Param('id', uuid) id: string, @NoBody() _body: undefined): Promise<void> {
    await this.webhooks.remove(actor, id);
  }

  @Post(':id/test')
  @HttpCode(202)
  @ApiOperation({
    operationId: 'testWebhook',
    summary: 'Queue a webhook.test event for this subscription',
    description: 'The delivery worker sends it; its delivery shows in the delivery log. No body, or `{}`.',
  })
  @ApiAcceptedResponse({ type: TestDeliveryResponse })
  @ApiSubscriptionPath()
  @ApiReadsBody()
  async test(
    @CurrentActor() actor: Actor,
    @Param('id', uuid) id: string,
    @NoBody() _body: undefined,
  ): Promise<TestDeliveryResponse> {
    return this.webhooks.sendTest(actor, id);
  }

  @Get(':id/deliveries')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    operationId: 'listWebhookDeliveries',
    summary: "This subscription's deliveries",
    description: 'Newest first: status, attempts, last error, next attempt.',
  })
  @ApiOkResponse({ type: DeliveryPage })
  @ApiSubscriptionPath()
  async deliveries(
    @CurrentActor() actor: Actor,
    @Param('id', uuid) id: string,
    @Query() query: ListDeliveriesQuery,
  ): Promise<DeliveryPage> {
    const { items, total } = await this.webhooks.deliveries(actor, id, query);
    return { items: items.map(toDeliveryResponse), total, page: query.page, perPage: query.perPage };
  }
}
