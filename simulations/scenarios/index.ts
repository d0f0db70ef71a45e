/** Every scenario by name. */
import type { ScenarioInput } from '../scenario.ts'
import { churn } from './churn.ts'
import { clockSkew } from './clock-skew.ts'
import { crashRestart } from './crash-restart.ts'
import { dayOffline } from './day-offline.ts'
import { flapping } from './flapping.ts'
import { forkingMember } from './forking-member.ts'
import { invalidSender } from './invalid-sender.ts'
import { lossyNetwork } from './lossy-network.ts'
import { oneWay } from './one-way.ts'
import { partitionHeal } from './partition-heal.ts'
import { partitionLarge } from './partition-large.ts'
import { steady } from './steady.ts'
import { withholdingPeer } from './withholding-peer.ts'

export const SCENARIOS: ReadonlyMap<string, ScenarioInput> = new Map(
  [
    steady,
    partitionHeal,
    oneWay,
    flapping,
    crashRestart,
    clockSkew,
    churn,
    forkingMember,
    withholdingPeer,
    invalidSender,
    lossyNetwork,
    dayOffline,
    partitionLarge,
  ].map((s) => [s.name, s]),
)

/** The scenarios `npm test` runs at small scale (all but the large benchmark). */
export const TEST_SCENARIOS = [...SCENARIOS.keys()].filter((n) => n !== 'partition-large')
