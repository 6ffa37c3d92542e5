import { NestFactory } from '@nestjs/core';
import { AppModule, smokeTransport } from './app.module.js';

async function bootstrap() {
  const app = await NestFactory.create(AppModule.forTransport(smokeTransport(process.env.JOBS_TRANSPORT ?? 'bullmq')));
  app.enableShutdownHooks();
  await app.listen(process.env.PORT ?? 3000);
}
await bootstrap();
