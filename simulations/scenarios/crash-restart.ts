import type { ScenarioInput } from '../scenario.ts'

export const crashRestart: ScenarioInput = {
  name: 'crash-restart',
  description:
    'Eight crashes at random times, each node down 6 s; what a node had received and not committed is lost',
  commitDelayMs: 40,
  writeUntilMs: 29_000,
  healAtMs: 30_000,
  budgetMs: 20_000,
  faults: { crashes: [{ atMs: 2_000, untilMs: 30_000, count: 8, downMs: 6_000 }] },
}
