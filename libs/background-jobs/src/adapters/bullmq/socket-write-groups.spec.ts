import IORedis from 'ioredis';
import { socketWritesDuring } from '../../../../../test/support/socket-writes';
import { testRedisUrl } from '../../../../../test/support/redis';
import { groupWrites, WRITES_PER_GROUP } from './socket-write-groups';

describe('commands written in one event-loop turn', () => {
  let redis: IORedis;

  beforeEach(async () => {
    redis = new IORedis(testRedisUrl(), { lazyConnect: true });
    groupWrites(redis);
    await redis.connect();
  });

  afterEach(() => redis.disconnect());

  const burst = (n: number) => Promise.all(Array.from({ length: n }, (_, i) => redis.echo(`n${i}`)));

  it('leave in one socket write per group, each answered with its own reply', async () => {
    const { result, writes } = await socketWritesDuring(() => burst(100));

    // The first as called, then a group of 16 as each fills and the rest when the turn ends: 1 + 6 + 1.
    expect(writes).toBe(1 + Math.floor(99 / WRITES_PER_GROUP) + 1);
    expect(result).toEqual(Array.from({ length: 100 }, (_, i) => `n${i}`));
  });

  it('a lone command of a turn goes out as it is called', async () => {
    const { writes } = await socketWritesDuring(async () => {
      for (let i = 0; i < 5; i++) await redis.ping();
    });

    expect(writes).toBe(5);
  });

  it('groups again on the socket a reconnect makes', async () => {
    const reconnected = new Promise((resolve) => redis.once('ready', resolve));
    redis.disconnect(true);
    await reconnected;

    const { result, writes } = await socketWritesDuring(() => burst(100));

    expect(writes).toBe(1 + Math.floor(99 / WRITES_PER_GROUP) + 1);
    expect(result).toHaveLength(100);
  });
});
