import type { ScenarioInput } from '../scenario.ts'

export const invalidSender: ScenarioInput = {
  name: 'invalid-sender',
  description:
    'A member sends events with bad signatures by gossip and serves them in reconciliation: every node refuses them and cuts the sender off',
  writeUntilMs: 20_000,
  healAtMs: 20_000,
  budgetMs: 90_000,
  reconcileIntervalMs: 2_000,
  faults: { invalidSenders: 1 },
}
