import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  // NOTE: without shutdown hooks SIGTERM kills running jobs instead of draining them.
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port);
  new Logger('SampleApp').log(`listening on http://127.0.0.1:${port}`);
}

bootstrap().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
