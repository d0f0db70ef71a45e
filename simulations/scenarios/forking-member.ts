import type { ScenarioInput } from '../scenario.ts'

export const forkingMember: ScenarioInput = {
  name: 'forking-member',
  description:
    'A member signs two contents at one position of its log (and under one event id) and sends each to half its neighbours: every node ends up holding both (docs/EVENTS.md "Forks"), one event set and one state',
  writeUntilMs: 20_000,
  healAtMs: 20_000,
  budgetMs: 20_000,
  faults: { forkers: 1 },
}
