/**
 * A scenario: plain options that say how big the mesh is, what is written, which faults happen
 * when, and how soon after the heal every live honest node must agree. Files in
 * simulations/scenarios/ export one each; `resolveScenario` fills in the defaults.
 */
import type { EventType } from '../src/core/types.ts'

export interface Window {
  readonly atMs: number
  readonly untilMs: number
}

export interface Scenario {
  readonly name: string
  readonly description: string
  /** Nodes at the start (joiners come on top). */
  readonly nodes: number
  /** Gossip and reconciliation neighbours of each node (a random graph of this degree). */
  readonly degree: number
  readonly types: readonly EventType[]
  /** Targets written to (personas / graphs); fewer targets, more concurrent writes per cell. */
  readonly targets: number
  readonly fieldsPerTarget: number
  /** Events written between writeFromMs and writeUntilMs by random honest live nodes. */
  readonly events: number
  readonly writeFromMs: number
  readonly writeUntilMs: number
  /** Events every node already holds at the start (written over the day before it). */
  readonly history: number
  /** Gossip: a publish reaches each neighbour after a delay, lost with `loss`, doubled with `duplicate`. */
  readonly gossip: { readonly loss: number; readonly duplicate: number }
  /** One-way delay of a message between neighbours: base + exponential jitter (mean), ms. */
  readonly latency: { readonly baseMs: number; readonly jitterMs: number }
  /** Bytes a link carries per ms (bandwidth of one session's stream). */
  readonly bandwidthBytesPerMs: number
  /** A stream message lost on the wire is retransmitted after this long (TCP's RTO). */
  readonly retransmitMs: number
  /** Loss of stream segments (each costs one retransmit delay). */
  readonly streamLoss: number
  /** AntiEntropy: a session with one random neighbour this often (mesh.reconcileIntervalMs). */
  readonly reconcileIntervalMs: number
  /** A node commits what it received this long after the first of a group arrives. */
  readonly commitDelayMs: number
  /** Redial after a link comes back: uniform in [0, redialMs). */
  readonly redialMs: number
  /** Faults end (the heal) at this time; convergence is then required within budgetMs. */
  readonly healAtMs: number
  readonly budgetMs: number
  readonly faults: Faults
  /** Honest nodes resolve open conflicts whose sides they hold, this often (0 = never), until
   *  settleMs after the heal; the run then goes on until the resolutions have spread too. */
  readonly resolveEveryMs: number
  readonly settleMs: number
  /** Progress and the convergence chart are sampled this often. */
  readonly sampleMs: number
  /** Sessions open with the log phase (per-author logs compared by summary), as the node's do;
   *  false: the range phase only (a node without per-author logs). */
  readonly logPhase: boolean
}

export interface Faults {
  /** Extra gossip loss and delay during windows (reordering: delays larger than the gaps). */
  readonly lossBursts?: ReadonlyArray<Window & { readonly loss: number; readonly extraDelayMs: number }>
  /** Splits the nodes into `groups` parts (by id); oneWay: only messages from a lower group to a
   *  higher one pass (sessions across fail: a stream needs both directions). */
  readonly partitions?: ReadonlyArray<Window & { readonly groups: number; readonly oneWay?: boolean }>
  /** A share of all links goes down and up every periodMs (phase random per link). */
  readonly flapping?: ReadonlyArray<Window & { readonly share: number; readonly periodMs: number }>
  /** `count` random nodes crash at random times in the window, each down for downMs: what they
   *  had received and not yet committed is lost. */
  readonly crashes?: ReadonlyArray<Window & { readonly count: number; readonly downMs: number }>
  /** Clock offsets: `count` nodes run offsetMs (uniform in ±maxOffsetMs) off; jumps move one
   *  node's clock by byMs during a window. */
  readonly skew?: {
    readonly count: number
    readonly maxOffsetMs: number
    readonly jumps?: ReadonlyArray<Window & { readonly byMs: number }>
  }
  /** Nodes leave for good and new empty nodes join, each every everyMs, during the window. */
  readonly churn?: Window & { readonly leaveEveryMs: number; readonly joinEveryMs: number }
  /** Members that misbehave (they are not held to convergence). */
  readonly forkers?: number
  readonly invalidSenders?: number
  readonly withholders?: number
  /** Nodes offline from the start until atMs; they lack the last `backlog` history events. */
  readonly offline?: { readonly count: number; readonly untilMs: number; readonly backlog: number }
}

export const DEFAULTS: Omit<Scenario, 'name' | 'description'> = {
  nodes: 30,
  degree: 6,
  types: ['persona_update', 'graph_update'],
  targets: 40,
  fieldsPerTarget: 6,
  events: 600,
  writeFromMs: 0,
  writeUntilMs: 20_000,
  history: 0,
  gossip: { loss: 0.02, duplicate: 0.01 },
  latency: { baseMs: 10, jitterMs: 15 },
  bandwidthBytesPerMs: 12_500,
  retransmitMs: 200,
  streamLoss: 0.01,
  reconcileIntervalMs: 10_000,
  commitDelayMs: 5,
  redialMs: 1_000,
  healAtMs: 20_000,
  budgetMs: 30_000,
  faults: {},
  resolveEveryMs: 0,
  settleMs: 0,
  sampleMs: 250,
  logPhase: true,
}

export type ScenarioInput = Partial<Scenario> & Pick<Scenario, 'name' | 'description'>

export function resolveScenario(s: ScenarioInput, over: { nodes?: number; events?: number } = {}): Scenario {
  const out: Scenario = { ...DEFAULTS, ...s }
  return {
    ...out,
    nodes: over.nodes ?? out.nodes,
    events: over.events ?? out.events,
  }
}
