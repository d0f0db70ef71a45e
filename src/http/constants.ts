/** Limits and timings of the HTTP API, each with its reason. Event limits come from src/core. */

/** Default and largest page of the list routes (conflicts, equivocations, audit): a page is
 *  a few hundred KB of JSON at most, and a client pages with `after` / `limit`. */
export const LIST_LIMIT_DEFAULT = 100
export const LIST_LIMIT_MAX = 1000

/** A comment line on an idle change feed, so proxies and load balancers (which commonly cut
 *  idle connections after 30-60 s) keep it open and a client notices a dead node. */
export const SSE_HEARTBEAT_MS = 15_000

/** Reconnect delay suggested to EventSource clients (`retry:`). */
export const SSE_RETRY_MS = 2_000

/** Change-feed entries queued for one slow client before the stream is closed with
 *  `event: overflow` (the client reconnects from its last id). Bounds memory per client: the
 *  feed never waits for a client, so without a bound one stalled reader would hold every event. */
export const SSE_QUEUE_EVENTS_MAX = 10_000

/** The same bound in bytes, for feeds of large events (64 KiB payloads). */
export const SSE_QUEUE_BYTES_MAX = 8 * 1024 * 1024

/** URL-encoded path parameters: a 255-byte target id is at most 765 characters encoded
 *  (fastify's default of 100 would refuse long ids). */
export const PARAM_CHARS_MAX = 1024

/** On close, requests in flight get this long to finish before every connection is cut. A
 *  push of a full batch commits in well under a second; a client that holds a connection open
 *  without finishing a request (or an idle connection it opened in advance) must not hold up a
 *  node's shutdown for the 60-70 s of Node's header and keep-alive timeouts. */
export const CLOSE_GRACE_MS = 3_000

/** Nesting depth of a request body's JSON, checked by a scan before it is parsed: a push body
 *  (`{"events": [ {event with payload} ]}`) holds a payload three levels down, and payloads may
 *  nest JSON_DEPTH_MAX (32). A deeper body is refused at once: V8's JSON.parse takes ~2 s per
 *  million levels of `[`, and what it builds would overflow every recursive walk after it. */
export const BODY_JSON_DEPTH_MAX = 32 + 3

/** The request line and headers must arrive within this time. A client sends them in one
 *  packet; Node's default (60 s) lets a slowloris client hold a connection for a minute. */
export const HEADERS_TIMEOUT_MS = 10_000

/** The whole request, body included, must arrive within this time, or the connection is closed
 *  (408 when nothing was answered yet). A body of http.bodyBytesMax (16 MiB) needs 2.2 Mbit/s.
 *  Fastify's default is 0 (never), which let clients sending a byte every 10 s hold connections
 *  for good. Answers are not limited: NDJSON pulls and the change feed stream as long as the
 *  client reads. */
export const REQUEST_TIMEOUT_MS = 60_000

/** How often Node checks the two timeouts above (its default, 30 s, enforces them up to 30 s
 *  late). One pass over the open connections per second costs nothing measurable. */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000

/** Open HTTP connections at once; the next one is closed as soon as it is accepted. Far above
 *  the applications and change-feed clients of one node, and a quarter of the common 1,024
 *  file-descriptor limit, leaving the rest to LevelDB's table files and the mesh. */
export const CONNECTIONS_MAX = 256
