// The DataSource the TypeORM CLI uses (npm run migration:run / migration:generate); the app builds
// its options with the same function, from the same settings.
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { databaseConfigFrom } from './src/config/app.config';
import { buildDataSourceOptions } from './src/database/data-source-options';

if (existsSync('.env')) process.loadEnvFile('.env');

export default new DataSource({ ...buildDataSourceOptions(databaseConfigFrom()), migrationsRun: false });
