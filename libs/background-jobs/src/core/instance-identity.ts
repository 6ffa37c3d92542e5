import { hostname } from 'node:os';

/** What every instance of this process shares; each transport adds its own instance id and start time. */
export const PROCESS_IDENTITY = {
  hostname: hostname(),
  pid: process.pid,
  version: libraryVersion(),
};

function libraryVersion(): string {
  try {
    // NOTE: two levels up from core/ is the package root, in src/ and in dist/ alike.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('../../package.json') as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
