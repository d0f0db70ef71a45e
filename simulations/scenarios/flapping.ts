import type { ScenarioInput } from '../scenario.ts'

export const flapping: ScenarioInput = {
  name: 'flapping',
  description: 'A third of the links go down and up every 3 s for 25 s while writes go on',
  writeUntilMs: 27_000,
  healAtMs: 28_000,
  budgetMs: 20_000,
  faults: { flapping: [{ atMs: 3_000, untilMs: 28_000, share: 0.33, periodMs: 3_000 }] },
}
