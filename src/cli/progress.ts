/**
 * Progress on stderr for long CLI work: a bar when the total is known (a start-up rebuild, a
 * large push, a backup), a line of counts when it is not (a reconciliation: how many events a
 * session will fetch is known only inside it). On a terminal both are redrawn in place; on
 * anything else (logs, CI, a service manager's journal) a bar writes a plain line at each 10 %
 * step and a count line at most every PLAIN_LINE_MS, so a non-terminal gets few lines.
 *
 * Hand-written rather than a progress-bar package: one bar, one count line, a TTY test and a
 * rate limit are all the CLI needs, in fewer lines than a dependency's configuration.
 */
import type { Writable } from './io.ts'

/** Bar width in characters. */
const BAR_CHARS = 30

/** A terminal is redrawn at most this often (a rebuild reports once per 2,000-event page). */
const REDRAW_MS = 100

/** A count line on a non-terminal is written at most this often. */
export const PLAIN_LINE_MS = 5_000

/** Erases the rest of a terminal line (after a shorter redraw). */
const ERASE_LINE_END = '\u001b[K'

export interface Progress {
  /** `detail` replaces the "done/total" text (a backup's total is a share, not a count). */
  update(done: number, total: number, detail?: string): void
  /** Ends the bar (a newline after it); nothing if nothing was shown. */
  done(): void
}

export function isTty(stream: Writable): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true
}

export function progressBar(
  out: Writable,
  label: string,
  tty: boolean,
  now: () => number = () => performance.now(),
): Progress {
  let shown = false
  let lastDrawMs = Number.NEGATIVE_INFINITY
  let lastStep = -1
  let last: [number, number] = [0, 0]
  let text: string | undefined
  const draw = (done: number, total: number) => {
    const ratio = total > 0 ? Math.min(1, done / total) : 0
    const fill = Math.round(ratio * BAR_CHARS)
    const pct = Math.floor(ratio * 100)
    out.write(
      `\r${label} [${'#'.repeat(fill)}${'.'.repeat(BAR_CHARS - fill)}] ${pct}% ${text ?? `${done}/${total}`}${ERASE_LINE_END}`,
    )
  }
  return {
    update(done, total, detail) {
      last = [done, total]
      text = detail
      if (tty) {
        const t = now()
        if (t - lastDrawMs < REDRAW_MS && done < total) return
        lastDrawMs = t
        draw(done, total)
        shown = true
        return
      }
      const step = total > 0 ? Math.floor((done / total) * 10) : 0
      if (step === lastStep) return
      lastStep = step
      out.write(`${label}: ${detail ?? `${done} of ${total}`} (${step * 10}%)\n`)
      shown = true
    },
    done() {
      if (!shown) return
      // The last state as it is (a push that failed half-way ends at half, not at 100 %).
      if (tty) {
        draw(last[0], last[1])
        out.write('\n')
      }
      shown = false
    },
  }
}

export interface ProgressLine {
  /** The current counts, as text (e.g. "fetched 2000 events, sent 0"). */
  update(text: string): void
  /** Ends the line: a terminal keeps the last text; elsewhere the last text is written if it
   *  was not yet. Nothing if nothing was shown. */
  done(): void
}

/** Counts without a total, redrawn on a terminal, written every PLAIN_LINE_MS elsewhere. */
export function progressLine(
  out: Writable,
  label: string,
  tty: boolean,
  now: () => number = () => performance.now(),
): ProgressLine {
  let last: string | undefined
  let written: string | undefined
  let writtenAt = Number.NEGATIVE_INFINITY
  const write = (text: string) => {
    out.write(tty ? `\r${label}: ${text}${ERASE_LINE_END}` : `${label}: ${text}\n`)
    written = text
    writtenAt = now()
  }
  return {
    update(text) {
      last = text
      if (now() - writtenAt >= (tty ? REDRAW_MS : PLAIN_LINE_MS)) write(text)
    },
    done() {
      if (last === undefined) return
      if (last !== written) write(last)
      if (tty) out.write('\n')
      last = undefined
      written = undefined
    },
  }
}
