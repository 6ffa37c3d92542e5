import { DynamicModule, Module } from '@nestjs/common';
import { ClsModule } from 'nestjs-cls';
import { BackgroundJobsModule, TransportOptions } from 'nestjs-background-jobs';
import { SmokeController } from './smoke.controller.js';
import { GreetJob, SmokeRecorder, TickJob } from './smoke.jobs.js';

@Module({})
export class AppModule {
  static forTransport(transport: TransportOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ClsModule.forRoot({
          global: true,
          middleware: { mount: true, setup: (cls, req) => cls.set('tenantId', req.headers['x-tenant-id']) },
        }),
        BackgroundJobsModule.forRoot({ transport }),
      ],
      controllers: [SmokeController],
      providers: [SmokeRecorder, GreetJob, TickJob],
    };
  }
}

/** `local`, or BullMQ on REDIS_URL under a prefix of its own. */
export function smokeTransport(type: string): TransportOptions {
  if (type === 'local') return { type: 'local' };
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is not set');
  return { type: 'bullmq', connection: { url }, prefix: `smoke-${process.pid}-${Date.now()}` };
}
