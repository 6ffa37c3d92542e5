import { MISSING_OPTIONAL_PEER } from '../contracts/background-jobs.messages';
import { MissingOptionalPeerError } from '../contracts/errors';
import { loadOptionalPeer } from './optional-peer';

const peer = (pkg: string) => ({ pkg, feature: 'The feature under test', install: `npm install ${pkg}` });

describe('loadOptionalPeer', () => {
  it('returns the package when it is installed', async () => {
    const schedule = await loadOptionalPeer(peer('@nestjs/schedule'), () => import('@nestjs/schedule'));
    expect(typeof schedule.SchedulerRegistry).toBe('function');
  });

  it('names the feature, the package and the install command when the package is missing', async () => {
    const missing = 'nestjs-background-jobs-no-such-peer';
    const load = loadOptionalPeer(peer(missing), () => import(missing));
    await expect(load).rejects.toThrow(
      MISSING_OPTIONAL_PEER(missing, 'The feature under test', `npm install ${missing}`),
    );
    await expect(load).rejects.toThrow(/Fix: npm install nestjs-background-jobs-no-such-peer$/);
    await expect(load).rejects.toBeInstanceOf(MissingOptionalPeerError);
    await expect(load).rejects.toMatchObject({ name: 'MissingOptionalPeerError', packageName: missing });
  });

  it('passes on a failure that is not the peer missing (a broken import inside it), unchanged', async () => {
    const broken = './no-such-module-of-ours';
    const load = loadOptionalPeer(peer('@nestjs/schedule'), () => import(broken));
    await expect(load).rejects.toThrow(/no-such-module-of-ours/);
    await expect(load).rejects.not.toThrow(/optional peer dependency/);
  });
});
