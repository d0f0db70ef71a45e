/**
 * The Yjs update shape (src/node/yjs-update-shape.ts): valid updates of every content kind are
 * measured as Yjs itself decodes them (seeded random documents, seed printed), and updates past a
 * bound, or crafted to hang yjs, are refused by the walk alone, the same on every node.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import * as Y from 'yjs'
import {
  measureYjsUpdate,
  YJS_CLIENTS_MAX,
  YJS_CLOCK_SPAN_MAX,
  YJS_DELETE_RANGES_MAX,
  YJS_NESTING_MAX,
  YJS_STRUCTS_MAX,
  YjsUpdateShapeError,
} from '../../../src/node/yjs-update-shape.ts'

function varUint(n: number): number[] {
  const out: number[] = []
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80)
    n = Math.floor(n / 0x80)
  }
  out.push(n)
  return out
}

function prng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A document touched by `steps` random edits of every kind (two clients, deletes, nested
 *  values, formats, embeds, XML, a subdocument). */
function randomDoc(seed: number, steps: number): Uint8Array {
  const rnd = prng(seed)
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)]
  const docs = [new Y.Doc(), new Y.Doc()]
  docs[0].clientID = 1 + (seed % 1000)
  docs[1].clientID = 5000 + (seed % 1000)
  const value = (d: number): unknown =>
    d > 3
      ? pick([1, 'x', null, true, 2.5])
      : pick([
          () => ({ a: value(d + 1), b: [value(d + 1)] }),
          () => [value(d + 1), 7],
          () => 'text',
          () => 3,
        ])()
  for (let i = 0; i < steps; i++) {
    const doc = pick(docs)
    const kind = Math.floor(rnd() * 8)
    const text = doc.getText('t')
    const arr = doc.getArray('a')
    const map = doc.getMap('m')
    if (kind === 0) text.insert(Math.floor(rnd() * (text.length + 1)), pick(['ab', 'é', '😀', 'hello ']))
    else if (kind === 1 && text.length > 1) text.delete(Math.floor(rnd() * (text.length - 1)), 1)
    else if (kind === 2) text.format(0, Math.min(2, text.length), { bold: rnd() > 0.5 })
    else if (kind === 3) text.insertEmbed(0, { img: 'x', w: Math.floor(rnd() * 100) })
    else if (kind === 4) arr.insert(0, [value(0), new Uint8Array([1, 2, 3])])
    else if (kind === 5 && arr.length > 0) arr.delete(0, 1)
    else if (kind === 6)
      map.set(`k${Math.floor(rnd() * 5)}`, pick([() => value(0), () => new Y.Map(), () => new Y.Doc()])())
    else {
      const x = doc.getXmlFragment('x')
      const el = new Y.XmlElement('p')
      el.setAttribute('class', 'c')
      x.insert(0, [el, new Y.XmlText('t')])
    }
    if (rnd() < 0.3) Y.applyUpdate(docs[0], Y.encodeStateAsUpdate(docs[1]))
  }
  Y.applyUpdate(docs[0], Y.encodeStateAsUpdate(docs[1]))
  return Y.encodeStateAsUpdate(docs[0])
}

const refused = (bytes: number[] | Uint8Array, pattern: RegExp) =>
  assert.throws(
    () => measureYjsUpdate(Uint8Array.from(bytes)),
    (err: Error) => err instanceof YjsUpdateShapeError && pattern.test(err.message),
  )

describe('measureYjsUpdate', () => {
  it('measures valid updates of every content kind as Yjs decodes them (seeded)', () => {
    const seed = Number(process.env.SEED ?? 20_261_205)
    console.log(`# seed ${seed} (SEED=... to repeat)`)
    for (let k = 0; k < 40; k++) {
      const update = randomDoc(seed + k, 10 + k * 4)
      const shape = measureYjsUpdate(update)
      const decoded = Y.decodeUpdate(update)
      assert.equal(shape.structs, decoded.structs.length, `seed ${seed + k}`)
      const ranges = [...decoded.ds.clients.values()].reduce((n, r) => n + r.length, 0)
      assert.equal(shape.deleteRanges, ranges, `seed ${seed + k}`)
      assert.equal(
        shape.clockSpan,
        decoded.structs.reduce((n, s) => n + s.length, 0),
        `seed ${seed + k}`,
      )
    }
  })

  it('measures incremental updates and the empty update', () => {
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'hello')
    const before = Y.encodeStateVector(doc)
    doc.getText('t').delete(1, 2)
    doc.getMap('m').set('k', { deep: [1, [2, [3]]] })
    const diff = Y.encodeStateAsUpdate(doc, before)
    assert.equal(measureYjsUpdate(diff).structs, Y.decodeUpdate(diff).structs.length)
    assert.deepEqual(measureYjsUpdate(new Uint8Array([0, 0])), {
      clients: 0,
      structs: 0,
      clockSpan: 0,
      deleteRanges: 0,
      depth: 0,
    })
  })

  it(`refuses more than ${YJS_STRUCTS_MAX} structs before reading them (a claim of 10^12)`, () => {
    refused([1, ...varUint(1e12), 1, 0, 0], /more than 20000 structs/)
  })

  it(`refuses structs spanning more than ${YJS_CLOCK_SPAN_MAX} clock ticks (a long GC, a long deleted run)`, () => {
    refused([1, 1, 7, 0, 0, ...varUint(YJS_CLOCK_SPAN_MAX + 1), 0], /span more than/)
    // ContentDeleted (ref 1) under a root type "a"
    refused([1, 1, 7, 0, 1, 1, 1, 97, ...varUint(YJS_CLOCK_SPAN_MAX + 1), 0], /span more than/)
    assert.equal(
      measureYjsUpdate(Uint8Array.from([1, 1, 7, 0, 0, ...varUint(YJS_CLOCK_SPAN_MAX), 0])).clockSpan,
      YJS_CLOCK_SPAN_MAX,
    )
  })

  it(`refuses values nested deeper than ${YJS_NESTING_MAX}`, () => {
    // ContentAny (ref 8) of one value: arrays of one element nested `d` deep around a null.
    const nestedAny = (d: number) => [1, 1, 7, 0, 8, 1, 1, 97, 1, ...Array(d).fill([117, 1]).flat(), 126, 0]
    assert.equal(measureYjsUpdate(Uint8Array.from(nestedAny(YJS_NESTING_MAX - 1))).depth, YJS_NESTING_MAX)
    refused(nestedAny(YJS_NESTING_MAX), /nested deeper/)
    // ContentJSON (ref 2) of one JSON text
    const text = `${'['.repeat(YJS_NESTING_MAX + 1)}${']'.repeat(YJS_NESTING_MAX + 1)}`
    refused([1, 1, 7, 0, 2, 1, 1, 97, 1, ...varUint(text.length), ...Buffer.from(text), 0], /nested deeper/)
  })

  it(`refuses more than ${YJS_CLIENTS_MAX} clients and more than ${YJS_DELETE_RANGES_MAX} delete ranges`, () => {
    const clients = [...varUint(YJS_CLIENTS_MAX + 1)]
    for (let c = 0; c < YJS_CLIENTS_MAX + 1; c++) clients.push(0, ...varUint(c), 0)
    refused([...clients, 0], /more than 1024 clients/)
    const ranges = [0, 1, 7, ...varUint(YJS_DELETE_RANGES_MAX + 1)]
    for (let i = 0; i <= YJS_DELETE_RANGES_MAX; i++) ranges.push(...varUint(i * 2), 1)
    refused(ranges, /delete-set ranges/)
  })

  it('refuses truncated updates, unknown refs and trailing bytes', () => {
    refused([], /unexpected end/)
    refused([1, 1, 7, 0, 4, 1, 1, 97, 10, 65], /unexpected end/)
    refused([1, 1, 7, 0, 20, 1, 1, 97], /unknown content ref 20/)
    refused([0, 0, 0], /1 bytes after the end/)
  })
})
