import { Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';

/** GET /metrics (Prometheus text). The Metrics provider itself is global (common/metrics). */
@Module({ controllers: [MetricsController] })
export class MetricsModule {}
