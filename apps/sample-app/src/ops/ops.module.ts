import { DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { BULL_BOARD_CONFIG, BullBoardConfig, BullBoardMount } from './bull-board';
import { HealthController } from './health.controller';

/** The sample app's operations extras: bull-board at /admin/queues (token-guarded) and GET /health. */
@Module({})
export class OpsModule {
  /** `config`: the Redis and prefix BackgroundJobsModule uses; `null` (the embedded transport, no Redis) leaves bull-board out. */
  static forRoot(config: BullBoardConfig | null): DynamicModule {
    return {
      module: OpsModule,
      imports: [TerminusModule.forRoot()],
      controllers: [HealthController],
      providers: config ? [{ provide: BULL_BOARD_CONFIG, useValue: config }, BullBoardMount] : [],
    };
  }
}
