import { DynamicModule, Logger, Module } from '@nestjs/common';
import { ConfigModule, ConfigType } from '@nestjs/config';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggerModule } from 'nestjs-pino';
import { CompiledValidationPipe } from './common/http/compiled-validation.pipe';
import { ErrorEnvelopeFilter } from './common/errors/error-envelope.filter';
import { validationErrorFrom } from './common/errors/validation-errors';
import { ALL_CONFIG, databaseConfig, httpConfig } from './config/app.config';
import { LogLevel, validateEnvironment } from './config/environment';
import { buildDataSourceOptions } from './database/data-source-options';
import { describeMigrationsRun, openDatabase } from './database/open-database';
import { DatabaseModule } from './database/transaction-runner';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './common/auth/auth.module';
import { MetricsCoreModule } from './common/metrics/metrics';
import { MetricsModule } from './metrics/metrics.module';
import { SessionsModule } from './sessions/sessions.module';
import { UsersModule } from './users/users.module';
import { GlobalApiModule } from './global-api/global-api.module';
import { HealthModule } from './health/health.module';
import { LoginModule } from './login/login.module';
import { PartnerGlobalModule } from './partner-global/partner-global.module';
import { PartnerLoginModule } from './partner-login/partner-login.module';
import { ToolkitModule } from './toolkit/toolkit.module';
import { WebhooksModule } from './webhooks/webhooks.module';

/** Request lines are written at info and below. */
function logsRequests(level: LogLevel): boolean {
  return level === 'info' || level === 'debug' || level === 'trace';
}

/**
 * A dynamic module so settings are read when the app is created (main.ts, each e2e test), not when
 * this file is imported.
 */
@Module({})
export class AppModule {
  static forRoot(): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, cache: true, validate: validateEnvironment, load: ALL_CONFIG }),
        LoggerModule.forRootAsync({
          inject: [httpConfig.KEY],
          useFactory: (http: ConfigType<typeof httpConfig>) => ({
            // Request lines are info level. Above it, no request is logged, and the per-request child
            // logger and its AsyncLocalStorage (promise hooks on every promise) cost about 7 % of a
            // stateless verify for nothing: no route gets the middleware. An unexpected error's line
            // names its request itself (ErrorEnvelopeFilter).
            forRoutes: logsRequests(http.logLevel) ? undefined : [],
            pinoHttp: {
              level: http.logLevel,
              autoLogging: logsRequests(http.logLevel),
              // Only these request fields are logged: never headers (tokens), bodies (secrets, codes) or queries.
              serializers: {
                req: (req: { id: string; method: string; url: string; remoteAddress?: string }) => ({
                  id: req.id,
                  method: req.method,
                  path: req.url.split('?')[0],
                  remoteAddress: req.remoteAddress,
                }),
                res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
              },
              customProps: () => ({ service: 'twofa' }),
            },
          }),
        }),
        TypeOrmModule.forRootAsync({
          inject: [databaseConfig.KEY],
          useFactory: (database: ConfigType<typeof databaseConfig>) => ({
            ...buildDataSourceOptions(database),
            // One attempt: a wrong DATABASE_URL failed after 9 retries and 26 s of stack traces.
            toRetry: () => false,
          }),
          dataSourceFactory: async (options) => {
            const { dataSource, ran } = await openDatabase(options!);
            new Logger('Database').log({ migrations: ran }, describeMigrationsRun(ran));
            return dataSource;
          },
        }),
        DatabaseModule,
        AuthModule,
        MetricsCoreModule,
        HealthModule,
        ToolkitModule,
        PartnerGlobalModule,
        PartnerLoginModule,
        GlobalApiModule,
        LoginModule,
        SessionsModule,
        UsersModule,
        AuditModule,
        MetricsModule,
        WebhooksModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: ErrorEnvelopeFilter },
        {
          provide: APP_PIPE,
          useValue: new CompiledValidationPipe({
            whitelist: true,
            forbidNonWhitelisted: true,
            forbidUnknownValues: true,
            transform: true,
            exceptionFactory: validationErrorFrom,
          }),
        },
      ],
    };
  }
}
