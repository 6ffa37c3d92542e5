import { Logger } from '@nestjs/common';
import { BAD_TENANT_LISTING, NO_TENANT_DIRECTORY, TenantDirectoryError } from '../../contracts';
import { JobDefinition } from '../job-definition';
import { RunQueue } from '../ports/run-queue.port';
import { fanOut } from './fan-out';
import { RunContext } from './run-context';

describe('fanOut', () => {
  const definition = { id: 'nightly-report' } as JobDefinition;
  // NOTE: a directory problem ends the fan-out before it reads the run or enqueues anything.
  const context = {} as RunContext;
  const runs = {} as RunQueue;
  const logger = new Logger('fan-out.spec');

  it('fails with a TenantDirectoryError naming the job when no TENANT_DIRECTORY is provided', async () => {
    const run = fanOut(definition, context, undefined, runs, logger);
    await expect(run).rejects.toBeInstanceOf(TenantDirectoryError);
    await expect(run).rejects.toThrow(NO_TENANT_DIRECTORY('nightly-report'));
  });

  it('fails with a TenantDirectoryError naming the job and what was listed when the directory lists no array', async () => {
    const directory = { listTenantIds: async () => 'acme' as unknown as string[] };
    const run = fanOut(definition, context, directory, runs, logger);
    await expect(run).rejects.toBeInstanceOf(TenantDirectoryError);
    await expect(run).rejects.toThrow(BAD_TENANT_LISTING('nightly-report', 'string'));
  });
});
