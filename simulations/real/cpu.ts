/**
 * CPU time over a run, from /proc (Linux): each node process's user + system time and the whole
 * host's busy time, so the report can tell a node busy with its own work (start-up, sessions)
 * from a host whose CPUs other work holds. Reads only; a process that is gone reads as 0.
 */
import { readFileSync } from 'node:fs'

/** Clock ticks per second of /proc times (USER_HZ: 100 on Linux). */
const TICKS_PER_S = 100

/** A process's user + system CPU time in seconds (0 when it is gone). */
export function processCpuS(pid: number | undefined): number {
  if (pid === undefined) return 0
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // the command may hold spaces and parentheses: fields count from the last ')'
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) / TICKS_PER_S
  } catch {
    return 0
  }
}

/** The host's busy and total CPU time in seconds (all CPUs, from /proc/stat's first line). */
export function hostCpuS(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]
    const v = line.trim().split(/\s+/).slice(1).map(Number)
    const total = v.reduce((a, b) => a + b, 0)
    const idle = (v[3] ?? 0) + (v[4] ?? 0)
    return { busy: (total - idle) / TICKS_PER_S, total: total / TICKS_PER_S }
  } catch {
    return { busy: 0, total: 0 }
  }
}
