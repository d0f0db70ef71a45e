/** Tunables of the node's composition (src/node), each with its reason. */

/**
 * A group commit (one synced LevelDB batch) slower than this is logged (warn, `slow commit`) and
 * counted (`gkm_commit_slow_total`). Commits take milliseconds on a healthy disk (docs/
 * BENCHMARKS.md: a 1,000-event group in ~5-40 ms); one that takes a second holds every writer
 * for that second and points at a slow or failing disk, swap, or a compaction stall.
 */
export const SLOW_COMMIT_MS = 1_000

/** While the node rebuilds at start-up, a progress line is logged at most this often. */
export const REBUILD_LOG_INTERVAL_MS = 5_000
