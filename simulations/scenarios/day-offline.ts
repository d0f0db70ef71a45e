import type { ScenarioInput } from '../scenario.ts'

export const dayOffline: ScenarioInput = {
  name: 'day-offline',
  description:
    'Two nodes come back after a day offline: the mesh wrote 2,500 events meanwhile (of 3,000 in its history) and writes go on',
  history: 3_000,
  events: 300,
  writeUntilMs: 15_000,
  healAtMs: 5_000,
  budgetMs: 25_000,
  faults: { offline: { count: 2, untilMs: 5_000, backlog: 2_500 } },
}
