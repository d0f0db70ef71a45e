import type { ScenarioInput } from '../scenario.ts'

export const withholdingPeer: ScenarioInput = {
  name: 'withholding-peer',
  description:
    'A peer offers its events in fingerprints but never serves them (nor forwards gossip): its neighbours strike it three times and cut it off',
  writeUntilMs: 20_000,
  healAtMs: 20_000,
  budgetMs: 90_000,
  reconcileIntervalMs: 2_000,
  faults: { withholders: 1 },
}
