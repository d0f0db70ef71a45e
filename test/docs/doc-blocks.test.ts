/** The docs runner's block parser, port substitution and safety check (test/helpers/doc-blocks.ts). */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { portsOf, shellBlocks, substitute, unsafeBecause } from '../helpers/doc-blocks.ts'

describe('documentation shell blocks', () => {
  it('finds sh/bash/shell blocks with their markers, skipping other fences', () => {
    const md = [
      '# t',
      '```json',
      '{"a": "```sh"}',
      '```',
      '<!-- not-run: needs a LAN -->',
      '```sh',
      'curl 192.168.1.2',
      '```',
      '<!-- run-for: 2.5s streams -->',
      '',
      '```bash',
      'curl -N x',
      '```',
      '```shell',
      'echo hi',
      '```',
    ].join('\n')
    const blocks = shellBlocks(md)
    assert.deepEqual(blocks, [
      { line: 6, code: 'curl 192.168.1.2\n', notRun: 'needs a LAN' },
      { line: 11, code: 'curl -N x\n', runForMs: 2500 },
      { line: 14, code: 'echo hi\n' },
    ])
    assert.throws(() => shellBlocks('```sh\necho'), /not closed/)
  })

  it('replaces loopback ports as whole words and /tmp/ paths, not digits inside other words', () => {
    const code =
      'x --http 127.0.0.1:7501 --listen /ip4/127.0.0.1/tcp/7601 --data-dir /tmp/n1\nfor p in 7501 7502; do curl localhost:7502/$p; done\necho ab7501 1.7501 75010\n'
    assert.deepEqual(portsOf(code).sort(), [7501, 7502, 7601])
    const out = substitute(
      code,
      new Map([
        [7501, 40001],
        [7502, 40002],
        [7601, 40003],
      ]),
      '/var/t',
    )
    assert.equal(
      out,
      'x --http 127.0.0.1:40001 --listen /ip4/127.0.0.1/tcp/40003 --data-dir /var/t/n1\nfor p in 40001 40002; do curl localhost:40002/$p; done\necho ab7501 1.7501 75010\n',
    )
  })

  it('refuses blocks that would start an mDNS-on node or leave loopback', () => {
    assert.match(unsafeBecause('npx gkm-sync start --data-dir x &') ?? '', /mDNS on/)
    assert.equal(unsafeBecause('npx gkm-sync start --no-mdns &'), undefined)
    assert.match(
      unsafeBecause('curl -d \'{"multiaddr":"/ip4/192.168.1.20/tcp/1"}\'') ?? '',
      /192\.168\.1\.20/,
    )
    assert.match(unsafeBecause('curl http://node.lan:7420/status') ?? '', /node\.lan/)
    assert.equal(unsafeBecause('curl -s http://127.0.0.1:7420/x localhost:7420'), undefined)
    for (const code of [
      'sudo cp deploy/gkm-sync.service /x',
      'x && systemctl enable --now gkm-sync',
      'apt-get install -y chromium',
      'cp a /etc/gkm/node.json',
      'npm install -g ./gkm-sync-0.1.0.tgz',
    ])
      assert.match(unsafeBecause(code) ?? '', /changes the system/, code)
    assert.equal(unsafeBecause('npm install ./gkm-sync-0.1.0.tgz'), undefined)
  })
})
