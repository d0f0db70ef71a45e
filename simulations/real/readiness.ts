/**
 * When the writes of a real-node run start: once the mesh is formed, the state a running
 * federation's writes meet. Formed means, from every node's `GET /peers`:
 *
 * - every node is connected to every other node (the lab's nodes all find each other: mDNS on
 *   the LAN profile, a bootstrap list of every node on the WAN one, so each node's expected
 *   peers are all the others);
 * - every node's writes reach every other node by its direct stream without waiting (`direct`:
 *   the peer announced the protocol, its subscriptions arrived, the stream is open);
 * - every pair of nodes has finished a reconciliation session (one side reports `inSyncAsOf`):
 *   the first session of each new connection, part of the mesh's start-up work, is done.
 *
 * The start-up is still measured, not hidden: `startupMs` is how long the nodes took to get
 * there, `fourPeersMs` when every node first had 4 peers (the gate before this one), and the
 * events of the first 10 s of writes have their own percentiles (arrivals.ts).
 */

/** What the gate reads of one `/peers` entry. */
export interface PeerRow {
  readonly peerId: string
  readonly connected: boolean
  readonly direct?: boolean
  readonly inSyncAsOf?: string
}

/** What the gate waits for, in words (the report and the docs say the same). */
export const GATE_TEXT =
  'every node connected to every other, its writes reaching each by an open direct stream, and a reconciliation session finished on every pair'

/** The earlier gate's peer count: writes started once every node had this many peers. */
export const FOUR_PEERS = 4

/**
 * Why the mesh is not formed yet ('' once it is): the first unmet condition, naming the nodes,
 * so a run that never gets there fails with a reason. `lists[i]` is node i's `/peers` (undefined:
 * it did not answer); `peerIds[i]` is node i's peer id.
 */
export function meshUnformed(
  lists: ReadonlyArray<readonly PeerRow[] | undefined>,
  peerIds: readonly string[],
): string {
  const n = peerIds.length
  const rows: Array<Map<string, PeerRow>> = []
  for (let i = 0; i < n; i++) {
    const l = lists[i]
    if (l === undefined) return `node ${i} does not answer /peers`
    rows.push(new Map(l.map((r) => [r.peerId, r])))
  }
  for (let i = 0; i < n; i++) {
    const missing = peerIds.filter((id, j) => j !== i && rows[i].get(id)?.connected !== true)
    if (missing.length > 0)
      return `node ${i} is connected to ${n - 1 - missing.length} of ${n - 1} nodes (not to node ${peerIds.indexOf(missing[0])})`
  }
  for (let i = 0; i < n; i++) {
    const j = peerIds.findIndex((id, k) => k !== i && rows[i].get(id)?.direct !== true)
    if (j >= 0) return `node ${i} cannot yet send to node ${j} by its direct stream`
  }
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++)
      if (
        rows[i].get(peerIds[j])?.inSyncAsOf === undefined &&
        rows[j].get(peerIds[i])?.inSyncAsOf === undefined
      )
        return `nodes ${i} and ${j} have not finished a reconciliation session yet`
  return ''
}

/** Whether every node has at least `FOUR_PEERS` (or n − 1) connected peers: the earlier gate,
 *  kept as a measurement (`fourPeersMs`). */
export function hasFourPeers(lists: ReadonlyArray<readonly PeerRow[] | undefined>, n: number): boolean {
  const want = Math.min(n - 1, FOUR_PEERS)
  return (
    lists.length === n && lists.every((l) => l !== undefined && l.filter((r) => r.connected).length >= want)
  )
}

/** The earlier gate (`--gate four-peers`: writes meet a mesh still forming, a cold start):
 *  why it is not met yet ('' once every node has 4 peers and all are reachable from node 0). */
export function fourPeersUnmet(
  lists: ReadonlyArray<readonly PeerRow[] | undefined>,
  peerIds: readonly string[],
): string {
  const n = peerIds.length
  const missing = lists.findIndex((l) => l === undefined)
  if (missing >= 0) return `node ${missing} does not answer /peers`
  if (!hasFourPeers(lists, n)) return `not every node has ${Math.min(n - 1, FOUR_PEERS)} peers`
  const seen = new Set([0])
  const stack = [0]
  while (stack.length > 0)
    for (const r of lists[stack.pop()!]!) {
      const j = peerIds.indexOf(r.peerId)
      if (r.connected && j >= 0 && !seen.has(j)) {
        seen.add(j)
        stack.push(j)
      }
    }
  return seen.size === n ? '' : `the mesh is split (${seen.size} of ${n} reachable from node 0)`
}

export const FOUR_PEERS_GATE_TEXT =
  'every node had 4 peers and all were reachable from node 0 (--gate four-peers: the writes meet a mesh still forming)'
