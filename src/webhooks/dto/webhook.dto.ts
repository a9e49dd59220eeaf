import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, IsOptional } from 'class-validator';
import { EnumField, TextField } from '../../common/http/fields';
import { IsPageNumber, IsPageSize } from '../../common/http/paging.decorator';
import { DeliveryStatus } from '../entities/webhook-delivery.entity';
import { TEST_EVENT_TYPE, WEBHOOK_EVENT_TYPES, WebhookEventType } from '../webhook-events';

const DELIVERY_STATUSES: DeliveryStatus[] = ['pending', 'delivered', 'failed'];

export class CreateWebhookRequest {
  @TextField({
    maxLength: 2048,
    description:
      'Where events are POSTed: https (http only with WEBHOOK_ALLOW_HTTP=true), to a host that resolves to public addresses only (unless WEBHOOK_ALLOW_PRIVATE_NETWORKS=true); no credentials, no fragment',
    example: 'https://portal.example.com/hooks/twofa',
  })
  url!: string;

  @ApiPropertyOptional({
    description: 'The event types to receive; absent: every type, including types added later',
    enum: WEBHOOK_EVENT_TYPES,
    isArray: true,
    example: ['reset', 'lockout.engaged', 'backup_codes.low'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length)
  @ArrayUnique()
  @IsIn(WEBHOOK_EVENT_TYPES, {
    each: true,
    message: `each of events must be one of: ${WEBHOOK_EVENT_TYPES.join(', ')}`,
  })
  events?: WebhookEventType[];
}

export class WebhookResponse {
  @ApiProperty({ type: String, format: 'uuid', example: '6a1d3c9e-0f4b-4c2a-9e7d-5b8f1a2c3d4e' }) id!: string;
  @ApiProperty({ type: String, example: 'https://portal.example.com/hooks/twofa' }) url!: string;
  @ApiProperty({
    type: String,
    description: 'The event types sent here; null: every type',
    enum: WEBHOOK_EVENT_TYPES,
    isArray: true,
    nullable: true,
    example: ['reset', 'lockout.engaged'],
  })
  events!: WebhookEventType[] | null;
  @ApiProperty({ type: String, format: 'date-time', example: '2026-12-01T10:00:00.000Z' }) createdAt!: string;
}

export class CreatedWebhookResponse extends WebhookResponse {
  @ApiProperty({
    type: String,
    description:
      'The Standard Webhooks signing secret, shown this once: verify deliveries with it (e.g. the standardwebhooks package)',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw/ASbZiR8F6A=',
  })
  secret!: string;
}

export class WebhookPage {
  @ApiProperty({ type: [WebhookResponse] }) items!: WebhookResponse[];
  @ApiProperty({ type: 'integer', minimum: 0, example: 1 }) total!: number;
  @ApiProperty({ type: 'integer', minimum: 1, example: 1 }) page!: number;
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 100, example: 20 }) perPage!: number;
}

export class ListWebhooksQuery {
  @IsPageNumber()
  page = 1;

  @IsPageSize(20, 100)
  perPage = 20;
}

export class TestDeliveryResponse {
  @ApiProperty({
    type: String,
    description: `The ${TEST_EVENT_TYPE} event: its webhook-id header`,
    format: 'uuid',
    example: '1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed',
  })
  eventId!: string;
  @ApiProperty({ type: String, format: 'uuid', example: '9c858901-8a57-4791-81fe-4c455b099bc9' }) deliveryId!: string;
}

export class ListDeliveriesQuery {
  @EnumField(DELIVERY_STATUSES, { optional: true, example: 'failed' })
  status?: DeliveryStatus;

  @IsPageNumber()
  page = 1;

  @IsPageSize(50, 200)
  perPage = 50;
}

export class DeliveryResponse {
  @ApiProperty({ type: String, format: 'uuid', example: '9c858901-8a57-4791-81fe-4c455b099bc9' }) id!: string;
  @ApiProperty({
    type: String,
    description: 'The webhook-id header',
    format: 'uuid',
    example: '1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed',
  })
  eventId!: string;
  @ApiProperty({ type: String, example: 'lockout.engaged' }) event!: string;
  @ApiProperty({ type: String, enum: DELIVERY_STATUSES, example: 'pending' }) status!: DeliveryStatus;
  @ApiProperty({ type: 'integer', minimum: 0, example: 2 }) attempts!: number;
  @ApiProperty({ type: 'integer', nullable: true, example: 503 }) lastStatusCode!: number | null;
  @ApiProperty({
    type: String,
    description: 'Why the last attempt failed, with at most 1 KiB of the answer',
    nullable: true,
    example: 'HTTP 503: upstream unavailable',
  })
  lastError!: string | null;
  @ApiProperty({ type: String, format: 'date-time', example: '2026-12-01T10:00:00.000Z' }) createdAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: '2026-12-01T10:00:05.000Z' })
  lastAttemptAt!: string | null;
  @ApiProperty({
    type: String,
    description: 'When the next attempt is due; null once delivered or failed',
    format: 'date-time',
    nullable: true,
    example: '2026-12-01T10:00:25.000Z',
  })
  nextAttemptAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null }) deliveredAt!: string | null;
}

export class DeliveryPage {
  @ApiProperty({ type: [DeliveryResponse] }) items!: DeliveryResponse[];
  @ApiProperty({ type: 'integer', minimum: 0, example: 1 }) total!: number;
  @ApiProperty({ type: 'integer', minimum: 1, example: 1 }) page!: number;
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 200, example: 50 }) perPage!: number;
}
