/** One real node (LevelDB, mesh off) with a few events and open conflicts, and every target. */
import { eventToJson } from '../../src/core/event.ts'
import { makeEvent, testSigner } from '../helpers/events.ts'
import { postJson, testNode } from '../helpers/node.ts'
import type { FuzzFixture } from './runner.ts'
import { fileTargets } from './targets-files.ts'
import { httpTargets } from './targets-http.ts'
import { wireTargets } from './targets-wire.ts'

const CONFLICTS = 20

export async function openFuzzFixture(): Promise<FuzzFixture> {
  const t = await testNode()
  const files = await fileTargets()
  try {
    const wallMs = Date.now()
    const sides = []
    for (let i = 0; i < CONFLICTS; i++)
      for (const [k, s] of [testSigner(61), testSigner(62)].entries())
        sides.push(
          eventToJson(
            makeEvent(s, {
              target: i % 2 === 0 ? 'p1' : 'p2',
              payload: { op: 'set', fields: { [`f${i}`]: k } },
              hlc: { wallMs, counter: i },
            }),
          ),
        )
    const pushed = await postJson(`${t.url}/sync/push`, sides)
    if (pushed.body.accepted !== sides.length) throw new Error(`fixture: ${JSON.stringify(pushed.body)}`)
    const conflictIds = (await t.node.api.conflicts('open', 1000)).map((c) => c.id as string)
    return {
      targets: [...httpTargets(t, conflictIds), ...wireTargets(t, conflictIds), ...files.targets],
      async close() {
        await files.close()
        await t.close()
      },
    }
  } catch (err) {
    await files.close()
    await t.close()
    throw err
  }
}
