import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { readMembersFile } from '../../../src/node/index.ts'
import { testSigner } from '../../helpers/events.ts'

describe('members file', () => {
  it('reads a JSON array or one key per line, and names what is wrong', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gkm-members-'))
    try {
      const key = Buffer.from(testSigner(61).publicKey).toString('hex')
      await writeFile(join(dir, 'm.json'), JSON.stringify([key.toUpperCase()]))
      await writeFile(join(dir, 'm.txt'), `# members\n${key}\n`)
      await writeFile(join(dir, 'bad.json'), '[1, 2]')
      await writeFile(join(dir, 'bad.txt'), 'not-a-key\n')
      assert.deepEqual(await readMembersFile(join(dir, 'm.json')), [key])
      assert.deepEqual(await readMembersFile(join(dir, 'm.txt')), [key])
      await assert.rejects(readMembersFile(join(dir, 'bad.json')), /array of key strings/)
      await assert.rejects(readMembersFile(join(dir, 'bad.txt')), /line 1/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
