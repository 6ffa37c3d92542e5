import { TransportHealth } from '../../core';
import { BullmqConnections } from './bullmq-connections';
import { BullmqExecutionsReader } from './bullmq-executions.reader';

/** Redis reachable (and its eviction policy), workers expected and running, and the queues' depths. */
export async function bullmqHealth(
  connections: BullmqConnections,
  executions: BullmqExecutionsReader,
  workers: { expected: number; running: number },
): Promise<TransportHealth> {
  const { expected: workersExpected, running: workersRunning } = workers;
  try {
    const redis = connections.commands();
    await redis.ping();
    const info = await redis.info('memory');
    const maxmemoryPolicy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
    return { store: 'redis', reachable: true, maxmemoryPolicy, workersExpected, workersRunning, queues: await executions.queueDepths() };
  } catch (error) {
    return { store: 'redis', reachable: false, error: (error as Error).message, workersExpected, workersRunning, queues: [] };
  }
}
