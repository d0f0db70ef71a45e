/** Yjs updates for tests: a text edited by two authors who exchange state now and then. */
import * as Y from 'yjs'
import { YJS_DOCUMENT_TEXT } from '../../src/core/view.ts'

/** `edits` edits alternating between authors 0 and 1 (an insert at a random place near the
 *  start, every `deleteEvery`-th a delete), and every `exchangeEvery`-th edit the editing
 *  author's whole state applied to the other's document. Returns every update in the order
 *  made, with the author whose document made it. */
export function twoAuthorYjsUpdates(
  rnd: () => number,
  edits: number,
  deleteEvery: number,
  exchangeEvery: number,
): Array<{ a: number; u: Uint8Array }> {
  const docs = [new Y.Doc(), new Y.Doc()]
  const updates: Array<{ a: number; u: Uint8Array }> = []
  docs.forEach((d, a) => {
    d.on('update', (u: Uint8Array) => {
      updates.push({ a, u })
    })
  })
  for (let i = 0; i < edits; i++) {
    const d = docs[i % 2]
    const text = d.getText(YJS_DOCUMENT_TEXT)
    if (i % deleteEvery === deleteEvery - 1 && text.length > 3) text.delete(1, 2)
    else text.insert(Math.min(Math.floor(rnd() * 5), text.length), `w${i} `)
    if (i % exchangeEvery === exchangeEvery - 1) Y.applyUpdate(docs[1 - (i % 2)], Y.encodeStateAsUpdate(d))
  }
  return updates
}
