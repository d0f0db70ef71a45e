import type { ScenarioInput } from '../scenario.ts'

export const steady: ScenarioInput = {
  name: 'steady',
  description: 'Steady state: writes on random nodes, lossy gossip (2% per hop), no faults',
  writeUntilMs: 20_000,
  healAtMs: 20_000,
  budgetMs: 15_000,
}
