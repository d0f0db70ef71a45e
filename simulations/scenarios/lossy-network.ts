import type { ScenarioInput } from '../scenario.ts'

export const lossyNetwork: ScenarioInput = {
  name: 'lossy-network',
  description:
    'Gossip loses 30% per hop with up to 2 s extra delay (reordering) and 10% duplicates for 20 s; stream segments are lost and retransmitted',
  gossip: { loss: 0.02, duplicate: 0.1 },
  streamLoss: 0.05,
  writeUntilMs: 24_000,
  healAtMs: 25_000,
  budgetMs: 25_000,
  faults: { lossBursts: [{ atMs: 3_000, untilMs: 23_000, loss: 0.3, extraDelayMs: 2_000 }] },
}
