/**
 * Progress on stderr for long CLI work (a start-up rebuild, a large push): a bar redrawn in
 * place on a terminal, or a plain line at each 10 % step otherwise (logs, CI, a service
 * manager's journal), so that a non-terminal gets a bounded number of lines.
 */
import type { Writable } from './io.ts'

/** Bar width in characters. */
const BAR_CHARS = 30

/** A terminal is redrawn at most this often (a rebuild reports once per 2,000-event page). */
const REDRAW_MS = 100

export interface Progress {
  update(done: number, total: number): void
  /** Ends the bar (a newline after it); nothing if nothing was shown. */
  done(): void
}

export function isTty(stream: Writable): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true
}

export function progressBar(out: Writable, label: string, tty: boolean): Progress {
  let shown = false
  let lastDrawMs = Number.NEGATIVE_INFINITY
  let lastStep = -1
  let last: [number, number] = [0, 0]
  const draw = (done: number, total: number) => {
    const ratio = total > 0 ? Math.min(1, done / total) : 0
    const fill = Math.round(ratio * BAR_CHARS)
    const pct = Math.floor(ratio * 100)
    out.write(`\r${label} [${'#'.repeat(fill)}${'.'.repeat(BAR_CHARS - fill)}] ${pct}% ${done}/${total}`)
  }
  return {
    update(done, total) {
      last = [done, total]
      if (tty) {
        const now = performance.now()
        if (now - lastDrawMs < REDRAW_MS && done < total) return
        lastDrawMs = now
        draw(done, total)
        shown = true
        return
      }
      const step = total > 0 ? Math.floor((done / total) * 10) : 0
      if (step === lastStep) return
      lastStep = step
      out.write(`${label}: ${done} of ${total} (${step * 10}%)\n`)
      shown = true
    },
    done() {
      if (!shown) return
      if (tty) {
        draw(last[1], last[1])
        out.write('\n')
      }
      shown = false
    },
  }
}
