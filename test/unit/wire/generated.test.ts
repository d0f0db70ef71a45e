import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { describe, it } from 'node:test'
import { generateOne, makeErasable, protoFiles } from '../../../test/unit/wire/pb-generate.ts'

describe('generated protobuf code', () => {
  it('src/wire/pb/*.ts is what the generator makes from the .proto files (run npx node test/unit/wire/pb-generate.ts)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gkm-pb-'))
    try {
      const protos = await protoFiles()
      assert.ok(protos.length >= 2)
      for (const proto of protos) {
        const produced = await generateOne(proto, dir)
        const checkedIn = await readFile(proto.replace(/\.proto$/, '.ts'), 'utf8')
        assert.equal(checkedIn, await readFile(produced, 'utf8'), `${basename(produced)} is stale`)
        assert.doesNotMatch(checkedIn, /\bnamespace\b|\benum\b|uint8arrays/)
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('refuses enums', () => {
    assert.throws(() => makeErasable('export enum A { X = 1 }\n', 'x.proto'), /enums are not supported/)
  })
})
