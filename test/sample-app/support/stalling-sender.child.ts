// One sample-app process that dies holding claims, for the stranded-claims test: boots the sample app from its
// environment (DATABASE_URL, DATABASE_SCHEMA, CLAIM_LEASE_MS; no REDIS_URL), with senders that send the first
// CAMPAIGN_SENDS_BEFORE_STALL campaign messages (and no retry) and then hang, as a process frozen mid-send would. It starts RETRY_RUNS concurrent
// runs of the retry processor and one of the workflow executor, and prints "stalled <correlation id>" for each send
// that hangs. The test SIGKILLs it once every run hangs.
import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { BackgroundJobs } from 'nestjs-background-jobs';
import { AppModule } from '../../../apps/sample-app/src/app.module';
import { NotificationDatabase } from '../../../apps/sample-app/src/domain';
import {
  EmailSender,
  NotificationSender,
  OutgoingMessage,
  RecordingEmailSender,
  RecordingSmsSender,
  RecordingWhatsAppSender,
  SmsSender,
  WhatsAppSender,
} from '../../../apps/sample-app/src/domain/delivery/notification.senders';
import { PIPELINE_SCHEDULES } from '../../../apps/sample-app/src/notification.schedules';
import { readSampleConfig } from '../../../apps/sample-app/src/sample-app.config';

const campaignSendsBeforeStall = Number(process.env.CAMPAIGN_SENDS_BEFORE_STALL ?? 0);
let campaignSends = 0;

function stalling(inner: NotificationSender): NotificationSender {
  return {
    send(message: OutgoingMessage) {
      const campaign = message.correlationId.startsWith('campaign-execution:');
      if (!campaign || campaignSends >= campaignSendsBeforeStall) {
        process.stdout.write(`stalled ${message.correlationId}\n`);
        return new Promise<never>(() => undefined);
      }
      campaignSends += 1;
      return inner.send(message);
    },
  };
}

async function main(): Promise<void> {
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(readSampleConfig())] })
    .overrideProvider(EmailSender)
    .useFactory({
      factory: (db: NotificationDatabase) => stalling(new RecordingEmailSender(db)),
      inject: [NotificationDatabase],
    })
    .overrideProvider(SmsSender)
    .useFactory({
      factory: (db: NotificationDatabase) => stalling(new RecordingSmsSender(db)),
      inject: [NotificationDatabase],
    })
    .overrideProvider(WhatsAppSender)
    .useFactory({
      factory: (db: NotificationDatabase) => stalling(new RecordingWhatsAppSender(db)),
      inject: [NotificationDatabase],
    })
    .compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  const jobs = moduleRef.get(BackgroundJobs);
  // NOTE: embedded, a pause lives in this process only: it keeps cron ticks from adding runs.
  for (const { id } of PIPELINE_SCHEDULES) await jobs.pause(id);
  for (let i = 0; i < Number(process.env.RETRY_RUNS ?? 1); i += 1)
    void jobs.runNow('notification-retry-processor-pipeline', { waitTimeoutMs: 600_000 });
  void jobs.runNow('campaign-workflow-executor-pipeline', { waitTimeoutMs: 600_000 });
}

main().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
