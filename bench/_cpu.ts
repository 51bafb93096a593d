/**
 * CPU time of a process tree from /proc (user + system, every thread, every descendant: live
 * ones and those it reaped),
 * so that a system's cost per run can be read even on a shared, noisy machine: wall-clock
 * throughput shrinks when other work takes the CPUs, CPU time per run much less.
 *
 * @module
 */

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  ppid: number;
  ticks: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the command name, which may hold spaces: state ppid … utime(14) stime(15)
    // cutime(16) cstime(17); the last two hold the children it reaped (exited PostgreSQL
    // backends), so a process that ended during a measurement still counts.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
    return { ppid: Number(fields[1]), ticks };
  } catch {
    return undefined; // gone meanwhile
  }
}

/** CPU milliseconds used so far by `roots` and all their live descendants. */
export function treeCpuMs(roots: readonly number[]): number {
  const stats = new Map<number, ProcStat>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const pid = Number(entry.name);
    const stat = readStat(pid);
    if (stat) stats.set(pid, stat);
  }
  const inTree = new Set(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, stat] of stats) {
      if (!inTree.has(pid) && inTree.has(stat.ppid)) {
        inTree.add(pid);
        grew = true;
      }
    }
  }
  let ticks = 0;
  for (const pid of inTree) ticks += stats.get(pid)?.ticks ?? 0;
  return (ticks * 1000) / TICKS_PER_SECOND;
}
