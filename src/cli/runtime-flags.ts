/**
 * How a node process should be started: the flags and environment that `npm start` and the
 * `gkm-sync` bin pass to Node (a unit test keeps package.json and bin/gkm-sync.js in step), and
 * that the benchmarks use for the processes they measure. Measured on a node rebuilding 200,000
 * events (docs/BENCHMARKS.md, RSS):
 *
 * - `--max-old-space-size=256`: V8 otherwise grows the old space far past the live data (~60 MB
 *   with full caches) before collecting.
 * - `--max-semi-space-size=16`: V8 sizes the young generation from the machine's memory (128 MB
 *   on a 24 GiB machine) and keeps it committed; 16 MB semi-spaces cut RSS by ~100 MB and made the
 *   rebuild faster, not slower (fewer cache misses per scavenge).
 * - `MALLOC_ARENA_MAX=2`: glibc gives each thread that allocates (libuv's pool running LevelDB
 *   reads and writes, LevelDB's compaction thread) an arena of its own and rarely returns their
 *   free pages: ~70 MB of RSS after a rebuild. Two arenas keep that down; it only takes effect
 *   when set before the process starts.
 */
export const NODE_FLAGS: readonly string[] = ['--max-old-space-size=256', '--max-semi-space-size=16']

export const NODE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' }
