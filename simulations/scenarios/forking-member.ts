import type { ScenarioInput } from '../scenario.ts'

export const forkingMember: ScenarioInput = {
  name: 'forking-member',
  description:
    'A member signs two contents under one event id and sends each to half its neighbours: every node keeps the first it stores and refuses the other',
  writeUntilMs: 20_000,
  healAtMs: 20_000,
  budgetMs: 20_000,
  faults: { forkers: 1 },
}
