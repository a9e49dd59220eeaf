import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditEvent } from './entities/audit-event.entity';

export interface AuditQuery {
  subject?: string;
  event?: string;
  page: number;
  perPage: number;
}

/** Reads the audit trail of one tenant, newest first. */
@Injectable()
export class AuditQueryService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async list(tenant: string, query: AuditQuery): Promise<{ items: AuditEvent[]; total: number }> {
    const [items, total] = await this.dataSource.manager.findAndCount(AuditEvent, {
      where: {
        tenant,
        ...(query.subject !== undefined ? { subjectId: query.subject } : {}),
        ...(query.event !== undefined ? { event: query.event } : {}),
      },
      order: { createdAt: 'DESC', id: 'ASC' },
      skip: (query.page - 1) * query.perPage,
      take: query.perPage,
    });
    return { items, total };
  }
}
