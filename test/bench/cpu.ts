import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** CPU time spent while a measurement ran, by process. */
export interface CpuTime {
  /** This Node.js process: the client code and, in-process, the fauxqs S3 and SQS emulator. */
  readonly nodeMs: number;
  /** The DynamoDB Local JVM (every thread, garbage collection and JIT included); absent off Linux. */
  readonly dynamodbMs?: number;
}

/** Kernel clock ticks per second, the unit of /proc/<pid>/stat times (100 on almost every Linux). */
const ticksPerSecond = (() => {
  const answer = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const ticks = Number(answer.stdout?.trim());
  return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
})();

/** User + system CPU time of a process from /proc, in ms; undefined where /proc is not there. */
const processCpuMs = (pid: number): number | undefined => {
  try {
    // Fields after the command name (which may hold spaces), so utime and stime are fields 12 and 13.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / ticksPerSecond : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Starts counting CPU time; the function returned gives what was spent since. The machine runs the
 * client and both emulators, so when every core is busy a side's wall time follows the CPU time
 * all three spend on it: this is what tells extra work from waiting.
 */
export const startCpuMeter = (dynamodbPid: number | undefined): (() => CpuTime) => {
  const node = process.cpuUsage();
  const jvm = dynamodbPid === undefined ? undefined : processCpuMs(dynamodbPid);
  return () => {
    const used = process.cpuUsage(node);
    const jvmNow = dynamodbPid === undefined ? undefined : processCpuMs(dynamodbPid);
    return {
      nodeMs: (used.user + used.system) / 1000,
      ...(jvm === undefined || jvmNow === undefined ? {} : { dynamodbMs: jvmNow - jvm }),
    };
  };
};
