// Whether a process still exists: what every sweep of leftovers from killed runs asks of a recorded pid.

/** Signal 0 probes without signalling; EPERM means it exists but belongs to someone else. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
