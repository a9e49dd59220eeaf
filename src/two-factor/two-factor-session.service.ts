import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomInt } from 'node:crypto';
import { DataSource, EntityManager, IsNull, MoreThan } from 'typeorm';
import { Actor } from '../common/auth/principal';
import { Clock } from '../common/clock';
import { DomainError } from '../common/errors/domain-error';
import { ErrorCode } from '../common/errors/error-code';
import { sessionConfig } from '../config/app.config';
import { driverSqlOf } from '../database/driver-sql';
import { NamedSql } from '../database/named-sql';
import { TransactionRunner } from '../database/transaction-runner';
import { recordAudit } from './audit-log';
import { SessionOrigin, TwoFactorSession } from './entities/two-factor-session.entity';
import { isUniqueViolation } from './unique-violation';

const PUBLIC_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const PUBLIC_ID_LENGTH = 30; // ~155 bits, the shape of seed 000's ids
/** The session of a successful login: a fixed text (prepared once), it runs on every one. */
export const INSERT_LOGIN_SESSION = new NamedSql<{
  tenant: string;
  publicId: string;
  userId: string;
  kind: string | null;
  createdAt: number;
  expiresAt: number;
}>(
  'INSERT INTO two_factor_session (tenant, public_id, user_id, kind, origin, bool, created_at, expires_at) ' +
    "VALUES (:tenant, :publicId, :userId, :kind, 'login', 1, :createdAt, :expiresAt)",
);

/**
 * A bounded batch of expired sessions, oldest first along ix_two_factor_session_expires: one statement on
 * both databases (MariaDB's DELETE ... LIMIT; the better-sqlite3 driver builds SQLite with
 * SQLITE_ENABLE_UPDATE_DELETE_LIMIT, and session-expiry.sweeper.spec.ts runs it there).
 */
const DELETE_EXPIRED = new NamedSql<{ now: number; limit: number }>(
  'DELETE FROM two_factor_session WHERE expires_at <= :now ORDER BY expires_at LIMIT :limit',
);

export interface SessionView {
  userId: string;
  publicId: string;
  origin: SessionOrigin;
  bool: boolean;
  createdAt: number;
  expiresAt: number;
}

export interface SessionListQuery {
  order: 'asc' | 'desc';
  page: number;
  perPage: number;
}

/** TwoFactorSession records, per tenant; an expired session reads as absent everywhere. */
@Injectable()
export class TwoFactorSessionService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly transactions: TransactionRunner,
    private readonly clock: Clock,
    @Inject(sessionConfig.KEY) private readonly config: ConfigType<typeof sessionConfig>,
  ) {}

  /** The session of a successful login, inside the login's own transaction. */
  async createInTransaction(
    manager: EntityManager,
    tenant: string,
    kind: string | null,
    userId: string,
    now: number,
  ): Promise<string> {
    const session = this.newSession(tenant, kind, 'login', userId, true, now);
    await driverSqlOf(manager).changes(INSERT_LOGIN_SESSION.bind(session));
    return session.publicId;
  }

  /**
   * Removes a user's sessions, in the transaction that resets, deletes, disables or rotates their config:
   * those of their logins and those posted for their id. The change holds the config's row, so a login
   * that committed before it loses its session here, and one after it finds the config changed.
   */
  async removeForUserInTransaction(
    manager: EntityManager,
    tenant: string,
    user: { kind: string; subjectId: string },
  ): Promise<void> {
    await manager.delete(TwoFactorSession, { tenant, userId: user.subjectId, kind: user.kind });
    await manager.delete(TwoFactorSession, { tenant, userId: user.subjectId, kind: IsNull() });
  }

  /** Removes at most `limit` sessions expired at `now`; answers how many it removed. */
  removeExpired(now: number, limit: number): Promise<number> {
    return this.transactions.run((manager) => DELETE_EXPIRED.affectedRows(manager, { now, limit }));
  }

  async create(actor: Actor, input: { userId: string; publicId?: string; bool: boolean }): Promise<SessionView> {
    const now = this.clock.now();
    const session = this.newSession(actor.tenant, null, 'api', input.userId, input.bool, now, input.publicId);
    try {
      await this.transactions.run(async (manager) => {
        await manager.insert(TwoFactorSession, session);
        await recordAudit(manager, now, this.auditEntry(actor, session, 'session.created'));
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new DomainError(ErrorCode.Conflict, 'A session with this public_id exists');
      throw error;
    }
    return this.viewOf(session);
  }

  async get(actor: Actor, publicId: string): Promise<SessionView> {
    return this.viewOf(await this.findLive(this.dataSource.manager, actor.tenant, publicId));
  }

  async list(actor: Actor, query: SessionListQuery): Promise<{ items: SessionView[]; total: number }> {
    const [sessions, total] = await this.dataSource.manager.findAndCount(TwoFactorSession, {
      where: { tenant: actor.tenant, expiresAt: MoreThan(this.clock.now()) },
      order: { createdAt: query.order === 'asc' ? 'ASC' : 'DESC', publicId: 'ASC' },
      skip: (query.page - 1) * query.perPage,
      take: query.perPage,
    });
    return { items: sessions.map((session) => this.viewOf(session)), total };
  }

  /**
   * A posted session takes any change. A login's session records that its user passed 2FA: it stays
   * with that user, and it may be revoked (bool false) but not asserted again (409 naming the field).
   */
  async update(actor: Actor, publicId: string, input: { userId: string; bool: boolean }): Promise<void> {
    const now = this.clock.now();
    await this.transactions.run(async (manager) => {
      const session = await this.findLive(manager, actor.tenant, publicId);
      if (session.origin === 'login') {
        if (input.userId !== session.userId) {
          throw loginSessionConflict('user_id', "A login's session belongs to the user who logged in");
        }
        if (input.bool && !session.bool) throw revokedLoginSession();
      }
      // A login's session stays true only while it still is: a revocation committed since the read wins.
      const keepsLoginTrue = session.origin === 'login' && input.bool;
      const { affected } = await manager.update(
        TwoFactorSession,
        { tenant: actor.tenant, publicId, ...(keepsLoginTrue ? { bool: true } : {}) },
        { userId: input.userId, bool: input.bool },
      );
      if (affected !== 1) {
        // Changed since the read: revoked (a login's stays revoked), or deleted or swept (nothing to update).
        const revoked =
          keepsLoginTrue && (await manager.exists(TwoFactorSession, { where: { tenant: actor.tenant, publicId } }));
        throw revoked ? revokedLoginSession() : sessionNotFound();
      }
      await recordAudit(manager, now, this.auditEntry(actor, { ...session, userId: input.userId }, 'session.updated'));
    });
  }

  async remove(actor: Actor, publicId: string): Promise<void> {
    const now = this.clock.now();
    await this.transactions.run(async (manager) => {
      const session = await this.findLive(manager, actor.tenant, publicId);
      await manager.delete(TwoFactorSession, { tenant: actor.tenant, publicId });
      await recordAudit(manager, now, this.auditEntry(actor, session, 'session.deleted'));
    });
  }

  private newSession(
    tenant: string,
    kind: string | null,
    origin: SessionOrigin,
    userId: string,
    bool: boolean,
    now: number,
    publicId?: string,
  ): TwoFactorSession {
    return {
      tenant,
      publicId:
        publicId ??
        Array.from({ length: PUBLIC_ID_LENGTH }, () => PUBLIC_ID_ALPHABET[randomInt(PUBLIC_ID_ALPHABET.length)]).join(
          '',
        ),
      userId,
      kind,
      origin,
      bool,
      createdAt: now,
      expiresAt: now + this.config.ttlSeconds * 1000,
    };
  }

  private async findLive(manager: EntityManager, tenant: string, publicId: string): Promise<TwoFactorSession> {
    const session = await manager.findOne(TwoFactorSession, {
      where: { tenant, publicId, expiresAt: MoreThan(this.clock.now()) },
    });
    if (!session) throw sessionNotFound();
    return session;
  }

  private viewOf(session: TwoFactorSession): SessionView {
    return {
      userId: session.userId,
      publicId: session.publicId,
      origin: session.origin,
      bool: Boolean(session.bool),
      createdAt: session.createdAt,
      expiresAt: session.expiresAt,
    };
  }

  private auditEntry(
    actor: Actor,
    session: TwoFactorSession,
    event: 'session.created' | 'session.updated' | 'session.deleted',
  ) {
    return {
      tenant: actor.tenant,
      event,
      outcome: 'success' as const,
      actor: actor.actorId,
      subjectKind: session.kind,
      subjectId: session.userId,
      configId: null,
      requestId: actor.requestId,
    };
  }
}

function loginSessionConflict(fieldName: 'user_id' | 'bool', message: string): DomainError {
  return new DomainError(ErrorCode.Conflict, message, [{ errorCode: 'LoginSession', fieldName, message }]);
}

function revokedLoginSession(): DomainError {
  return loginSessionConflict('bool', "A login's session that was revoked cannot be made true again");
}

function sessionNotFound(): DomainError {
  return new DomainError(ErrorCode.NotFound, 'Session not found');
}
