import type { ScenarioInput } from '../scenario.ts'

export const oneWay: ScenarioInput = {
  name: 'one-way',
  description:
    'A one-way partition for 30 s: the first half hears the second, not the reverse (streams across fail)',
  writeUntilMs: 34_000,
  healAtMs: 35_000,
  budgetMs: 20_000,
  faults: { partitions: [{ atMs: 5_000, untilMs: 35_000, groups: 2, oneWay: true }] },
}
