/** Limits and tunables of the store layer, each with the reason for its value. */

/** Version of the store: the key layout (src/store/keys.ts) and the event bytes in it. Bump it
 *  on any change; an older store is refused at open with a message naming its version (no
 *  migration: issue 12 changed the layout and the event bytes, GKE2 with vectors packed as
 *  float32, before any deployment). Format 3 is issues 10 and 12: GKE3 events carry their
 *  position in their author's log (indexed by `lpos`, summarised per log in `logs`, signed heads
 *  in `lhd`), and state per cell (a target's record and each of its cells under their own keys
 *  of the `state` sublevel). */
export const FORMAT_VERSION = '3'

/** Largest `limit` one read accepts. The largest page the core asks for is PULL_LIMIT_MAX
 *  (5,000) and an ancestry walk visits at most ANCESTRY_VISIT_MAX (10,000) events; 50,000
 *  leaves room for both while bounding one read to ~50 MB of typical (1 KiB) events. */
export const READ_LIMIT_MAX = 50_000

/** Smallest buffer a rebuild's scan (scanByTarget, src/store/target-scan.ts) accepts (tests use
 *  small ones to make many passes). An entry may take at most half the buffer (a larger event is
 *  refused with a RangeError naming it): the largest event (a 64 KiB payload, PAYLOAD_BYTES_MAX,
 *  with its header, parents, log position, key and signature) is under 80 KiB, so the node's
 *  buffer (REPLAY_BUFFER_BYTES, 64 MiB) holds any. */
export const SCAN_BUFFER_BYTES_MIN = 4096

/** The directory, inside the store's, where a rebuild spills the log by target (one sequential
 *  read of the log instead of one per pass; src/store/target-scan.ts). It holds about the log's
 *  event bytes while a rebuild runs and is removed after it (and emptied before the next). */
export const SPILL_DIR = 'rebuild-spill'

/** Spill files at most (each an open descriptor while the log is read; LevelDB keeps up to
 *  LEVEL_OPTIONS.maxOpenFiles): 128 files of half the node's 16 MiB buffer cover a log of 1 GB; a
 *  larger log makes larger files, each sorted in passes. */
export const SPILL_BUCKETS_MAX = 128

/** Keys per page when a read walks a whole family (iterateTargets, clearMaterialized): one
 *  short-lived iterator per page instead of one snapshot pinned for the whole walk. 256 target
 *  states of a few KiB each keep a page well under a few MB. */
export const WALK_PAGE_SIZE = 256

/** Deletes per durable batch in clearMaterialized: large enough to amortise the fsync
 *  (~2,400 syncs/s measured here, reliability.md 1.6), small enough to keep one batch a few MB. */
export const CLEAR_BATCH_SIZE = 1000

/**
 * LevelDB options (classic-level). Defaults are tuned for small embedded use; a node serves
 * pull pages and reconciliation ranges from recent events and rewrites target states on every
 * group commit.
 */
export const LEVEL_OPTIONS = {
  /** Block cache for reads. The default 8 MiB holds ~8k 1 KiB events; 16 MiB keeps the hot tail
   *  of the log (what peers pull) in memory while the node stays inside its 300 MB RSS budget
   *  (the OS page cache holds the rest). */
  cacheSize: 16 * 1024 * 1024,
  /** Memtable size. A 500-event group commit of 1 KiB events writes ~1 MB (events + 5 index entries +
   *  target states); the default 4 MiB flushes to level 0 every few batches and stalls writers
   *  on compaction under bursts. 8 MiB absorbs a burst of several groups; the cost is up to
   *  8 MiB of log replay at open and two memtables in RSS. */
  writeBufferSize: 8 * 1024 * 1024,
  /** Table files kept open. Half of the usual 1,024 soft descriptor limit, so libp2p sockets
   *  and the HTTP server keep the other half; at the default 2 MiB per table this covers ~1 GB
   *  of data before files are reopened on demand. */
  maxOpenFiles: 500,
} as const

/**
 * Reads of at most this many keys are answered synchronously (`getSync`) instead of by one
 * `getMany` on libuv's thread pool. A hot key costs ~2.5 us synchronously; the round trip to the
 * pool costs ~12 us of the event loop plus two thread wake-ups, and a single-event commit (a
 * gossip message, one local write) makes five or six such reads. Larger reads (group commits of
 * hundreds of events) stay on the pool, where they overlap with the event loop's other work and
 * a cold read from disk does not stall it.
 */
export const SYNC_READ_KEYS_MAX = 32

/** Bytes per batch when a store is copied (backup, restore): a few MB keeps one batch's memory
 *  small while amortising the per-batch cost; only the last batch is fsynced (the copy is
 *  complete only when the command has returned). */
export const COPY_BATCH_BYTES_MAX = 4 * 1024 * 1024

/** Meta key of the node's own log id (16 hex). A restore or repair writes a new one: the store
 *  may have lost positions its node signed, and signing them again would fork its log. */
export const META_OWN_LOG = 'log'
