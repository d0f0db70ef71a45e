import type { ScenarioInput } from '../scenario.ts'

export const partitionLarge: ScenarioInput = {
  name: 'partition-large',
  description:
    '1,000 nodes, 100,000 events written during a 60 s split into halves; converged within 10 s of the heal is the target',
  nodes: 1_000,
  degree: 8,
  targets: 2_000,
  events: 100_000,
  writeUntilMs: 59_000,
  healAtMs: 60_000,
  budgetMs: 10_000,
  sampleMs: 500,
  faults: { partitions: [{ atMs: 0, untilMs: 60_000, groups: 2 }] },
}
