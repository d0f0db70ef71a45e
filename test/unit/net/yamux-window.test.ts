import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { StreamState, YamuxStream } from '@chainsafe/libp2p-yamux/stream'
import type { Logger } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import { installYamuxWindowUpdates, uninstallYamuxWindowUpdates } from '../../../src/net/yamux-window.ts'
import { runCleanup, startNode } from './helpers.ts'

/** Yamux's initial stream window (its INITIAL_STREAM_WINDOW), which the stream starts with. */
const WINDOW = 256 * 1024
const DATA = 0
const WINDOW_UPDATE = 1
const ACK = 2

/** A silent logger with the shape libp2p streams call. */
const quiet = Object.assign(() => {}, {
  enabled: false,
  trace: () => {},
  error: () => {},
  newScope: () => quiet,
}) as unknown as Logger

interface Sent {
  type: number
  flag: number
  length: number
}

function stream(state: StreamState, rttMs = -1): { s: YamuxStream; sent: Sent[] } {
  const sent: Sent[] = []
  const s = new YamuxStream({
    id: '1',
    streamId: 1,
    direction: 'inbound',
    state,
    log: quiet,
    getRTT: () => rttMs,
    sendFrame: (h) => {
      sent.push({ type: h.type, flag: h.flag, length: h.length })
      return true
    },
  })
  return { s, sent }
}

function data(s: YamuxStream, bytes: number): void {
  s.handleData({
    header: { type: DATA, flag: 0, streamID: 1, length: bytes, version: 0 },
    data: new Uint8ArrayList(new Uint8Array(bytes)),
  } as never)
}

const updates = (sent: Sent[]) => sent.filter((f) => f.type === WINDOW_UPDATE)

describe('yamux window updates (src/net/yamux-window.ts)', () => {
  before(() => assert.equal(installYamuxWindowUpdates(), true, 'installed for yamux 8'))
  after(() => uninstallYamuxWindowUpdates())

  it('sends no window update for small frames until half the window is taken in, then grants it all', () => {
    const { s, sent } = stream(StreamState.Established)
    const frame = 500
    const below = Math.floor(WINDOW / 2 / frame) // frames that stay under half the window
    for (let i = 0; i < below; i++) data(s, frame)
    assert.equal(updates(sent).length, 0, `no update after ${below * frame} bytes`)
    data(s, frame)
    assert.deepEqual(updates(sent), [{ type: WINDOW_UPDATE, flag: 0, length: (below + 1) * frame }])
    // the next half window starts from zero again
    for (let i = 0; i < below; i++) data(s, frame)
    assert.equal(updates(sent).length, 1)
  })

  it('a whole window sent in one frame gets its update at once (the sender is never left waiting)', () => {
    const { s, sent } = stream(StreamState.Established)
    data(s, WINDOW)
    assert.deepEqual(updates(sent), [{ type: WINDOW_UPDATE, flag: 0, length: WINDOW }])
    data(s, WINDOW) // the grant was real: a second full window is accepted
    assert.equal(updates(sent).length, 2)
  })

  it('still acknowledges a new stream with its first frame', () => {
    const { s, sent } = stream(StreamState.SYNReceived)
    data(s, 100)
    assert.deepEqual(updates(sent), [{ type: WINDOW_UPDATE, flag: ACK, length: 100 }])
    data(s, 100)
    assert.equal(updates(sent).length, 1)
  })

  it('a paused stream sends nothing; resuming grants what was taken in once it is half the window', () => {
    const { s, sent } = stream(StreamState.Established)
    s.sendPause()
    data(s, WINDOW / 2 + 1)
    assert.equal(updates(sent).length, 0)
    s.sendResume()
    assert.deepEqual(updates(sent), [{ type: WINDOW_UPDATE, flag: 0, length: WINDOW / 2 + 1 }])
  })

  it('the window still grows when data comes within four round trips of the last update', () => {
    const { s, sent } = stream(StreamState.Established, 60_000)
    data(s, 100) // doubled to 512 KiB: 256 KiB + 100 bytes to grant, over half of it
    assert.deepEqual(updates(sent), [{ type: WINDOW_UPDATE, flag: 0, length: WINDOW + 100 }])
  })

  it("yamux's own rule answers every frame (what the override saves)", () => {
    uninstallYamuxWindowUpdates()
    try {
      const { s, sent } = stream(StreamState.Established)
      for (let i = 0; i < 10; i++) data(s, 500)
      assert.equal(updates(sent).length, 10)
    } finally {
      assert.equal(installYamuxWindowUpdates(), true)
    }
  })

  it('another major version of yamux keeps its own rule', () => {
    uninstallYamuxWindowUpdates()
    try {
      assert.equal(installYamuxWindowUpdates(9), false)
      assert.equal(installYamuxWindowUpdates(Number.NaN), false)
      const { s, sent } = stream(StreamState.Established)
      data(s, 500)
      assert.equal(updates(sent).length, 1)
    } finally {
      assert.equal(installYamuxWindowUpdates(), true)
    }
  })

  it('a network installs the rule when it starts', async () => {
    uninstallYamuxWindowUpdates()
    const cleanup: Array<() => Promise<void>> = []
    try {
      await startNode({}, cleanup)
      const { s, sent } = stream(StreamState.Established)
      for (let i = 0; i < 10; i++) data(s, 500)
      assert.equal(updates(sent).length, 0)
    } finally {
      await runCleanup(cleanup)
    }
  })
})
