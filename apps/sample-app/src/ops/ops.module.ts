import { DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { BULL_BOARD_CONFIG, BullBoardConfig, BullBoardMount } from './bull-board';
import { HealthController } from './health.controller';

/** The sample app's operations extras: bull-board at /admin/queues (token-guarded) and GET /health. */
@Module({})
export class OpsModule {
  /**
   * `config` defaults to what app.module gives BackgroundJobsModule: REDIS_URL and JOBS_PREFIX. `null` (the
   * embedded transport, no Redis) leaves bull-board out.
   */
  static forRoot(
    config: BullBoardConfig | null = {
      connection: { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' },
      prefix: process.env.JOBS_PREFIX ?? 'sample',
    },
  ): DynamicModule {
    return {
      module: OpsModule,
      imports: [TerminusModule.forRoot()],
      controllers: [HealthController],
      providers: config ? [{ provide: BULL_BOARD_CONFIG, useValue: config }, BullBoardMount] : [],
    };
  }
}
