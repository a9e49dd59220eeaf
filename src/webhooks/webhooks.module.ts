import { Module } from '@nestjs/common';
import { TwoFactorModule } from '../two-factor/two-factor.module';
import { HostResolver, SystemHostResolver } from './webhook-destination';
import { WebhookDeliveryWorker } from './webhook-delivery.worker';
import { WebhookMetrics } from './webhook-metrics';
import { WebhookSender } from './webhook-sender';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

/**
 * /webhooks (scope webhooks:admin) and the background delivery worker. The outbox rows themselves are
 * written by two-factor/audit-log.ts, inside each change's transaction (webhook-outbox.ts).
 */
@Module({
  imports: [TwoFactorModule],
  controllers: [WebhooksController],
  providers: [
    { provide: HostResolver, useClass: SystemHostResolver },
    WebhooksService,
    WebhookSender,
    WebhookMetrics,
    WebhookDeliveryWorker,
  ],
})
export class WebhooksModule {}
