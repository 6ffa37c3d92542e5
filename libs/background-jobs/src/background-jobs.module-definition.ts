import { ConfigurableModuleBuilder } from '@nestjs/common';
import { BackgroundJobsModuleOptions } from './contracts';

export const {
  ConfigurableModuleClass: BackgroundJobsConfigurableModule,
  MODULE_OPTIONS_TOKEN: BACKGROUND_JOBS_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<BackgroundJobsModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
