import type { ScenarioInput } from '../scenario.ts'

export const partitionHeal: ScenarioInput = {
  name: 'partition-heal',
  description:
    'The mesh splits in two halves for 30 s with writes on both sides, then heals; nodes that hold both sides of a conflict resolve it',
  writeUntilMs: 34_000,
  healAtMs: 35_000,
  budgetMs: 20_000,
  resolveEveryMs: 1_000,
  settleMs: 8_000,
  faults: { partitions: [{ atMs: 5_000, untilMs: 35_000, groups: 2 }] },
}
