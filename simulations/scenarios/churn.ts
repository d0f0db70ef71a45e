import type { ScenarioInput } from '../scenario.ts'

export const churn: ScenarioInput = {
  name: 'churn',
  description: 'A node leaves for good and an empty one joins every 3 s for 24 s',
  writeUntilMs: 26_000,
  healAtMs: 27_000,
  budgetMs: 25_000,
  faults: { churn: { atMs: 3_000, untilMs: 27_000, leaveEveryMs: 3_000, joinEveryMs: 3_000 } },
}
