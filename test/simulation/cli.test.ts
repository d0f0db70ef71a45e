/**
 * `npm run simulate`: writes a JSON result and a self-contained HTML report (inline SVG, no
 * external assets, no scripts), prints where they are, and refuses bad arguments by name.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, it } from 'node:test'

const MAIN = resolve(import.meta.dirname, '../../simulations/main.ts')
const run = (args: string[]) =>
  spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60_000 })

describe('npm run simulate', () => {
  it('runs a scenario, writes the JSON result and a self-contained HTML report', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gkm-sim-'))
    try {
      const r = run([
        '--scenario',
        'partition-heal',
        '--seed',
        '4',
        '--nodes',
        '12',
        '--events',
        '80',
        '--out',
        dir,
      ])
      assert.equal(r.status, 0, r.stdout + r.stderr)
      assert.match(r.stdout, /PASSED/)
      assert.match(r.stdout, /report: .*partition-heal-seed4\.html/)
      const result = JSON.parse(readFileSync(join(dir, 'partition-heal-seed4.json'), 'utf8'))
      assert.equal(result.seed, 4)
      assert.equal(result.passed, true)
      assert.equal(
        result.command,
        'npm run simulate -- --scenario partition-heal --seed 4 --nodes 12 --events 80',
      )
      const html = readFileSync(join(dir, 'partition-heal-seed4.html'), 'utf8')
      assert.ok((html.match(/<svg /g) ?? []).length >= 5, 'the charts are inline SVG')
      assert.doesNotMatch(
        html,
        /<script|<link |src=["']http|href=["']http|url\(/i,
        'no scripts or external assets',
      )
      assert.match(html, /Convergence over time/)
      assert.match(html, /Faults injected/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('refuses an unknown scenario and a malformed number, naming them', () => {
    const a = run(['--scenario', 'nope'])
    assert.equal(a.status, 2)
    assert.match(a.stderr, /unknown scenario nope; one of: steady/)
    const b = run(['--seed', '1e5'])
    assert.equal(b.status, 2)
    assert.match(b.stderr, /--seed must be a non-negative integer/)
    const c = run(['--nodes', '1'])
    assert.equal(c.status, 2)
    assert.match(c.stderr, /--nodes must be 2\.\.5000/)
  })
})
