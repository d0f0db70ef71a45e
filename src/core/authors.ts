/**
 * The one author rule: which authors' events a node admits. Live admission (push, gossip,
 * catch-up) and the start-up rebuild both call `admittedAuthors`, so a node's state is the same
 * function of its event log whichever path built it.
 *
 * - No members list: an open federation, every author is admitted (undefined).
 * - A members list: its keys, plus the node's own key. A node always admits its own events: it
 *   wrote them, and a members list that leaves the node out (a list shared by a federation the
 *   node joins as an observer, or a typo) must not make the node drop its own writes on a
 *   rebuild while it keeps them live.
 *
 * Keys are compared in lowercase hex.
 */
export function admittedAuthors(
  members: Iterable<string> | undefined,
  selfKey: string,
): ReadonlySet<string> | undefined {
  if (members === undefined) return undefined
  const out = new Set<string>()
  for (const m of members) out.add(m.toLowerCase())
  out.add(selfKey.toLowerCase())
  return out
}
