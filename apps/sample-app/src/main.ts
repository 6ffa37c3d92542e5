import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { dashboardLine } from './ops/ops-token.guard';
import { describeBackends, readSampleConfig } from './sample-app.config';

async function bootstrap(): Promise<void> {
  const config = readSampleConfig();
  // NOTE: abortOnError false: a start-up failure (database or Redis unreachable) reaches the one-line report below.
  const app = await NestFactory.create(AppModule.forRoot(config), { abortOnError: false });
  // NOTE: without shutdown hooks SIGTERM kills running jobs instead of draining them.
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port);
  const logger = new Logger('SampleApp');
  logger.log(
    `listening on http://127.0.0.1:${port} (JOBS_MODE=${config.mode}${config.disabled.length ? `, JOBS_DISABLED=${config.disabled.join(',')}` : ''}, ${describeBackends(config)})`,
  );
  logger.log(`dashboard: ${dashboardLine(port)}`);
}

bootstrap().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
