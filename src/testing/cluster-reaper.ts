/**
 * Stops the test kit's embedded PostgreSQL after the test process is gone, however it ended (a
 * test runner may kill it): a detached process that watches the test process and the postmaster,
 * then stops the postmaster (SIGINT: fast shutdown; SIGKILL after 15 s) and removes the cluster's
 * folder. `node cluster-reaper.js <test-pid> <postmaster-pid> <folder>`.
 */
import { rmSync } from 'node:fs';
import { processAlive } from '../shared/process-alive.js';

const [parent, postmaster, folder] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

if (Number.isInteger(parent) && Number.isInteger(postmaster) && folder) {
  const watch = setInterval(() => {
    if (processAlive(parent) && processAlive(postmaster)) return;
    clearInterval(watch);
    signal(postmaster, 'SIGINT');
    const deadline = Date.now() + 15_000;
    const wait = setInterval(() => {
      if (processAlive(postmaster) && Date.now() < deadline) return;
      if (processAlive(postmaster)) signal(postmaster, 'SIGKILL');
      clearInterval(wait);
      rmSync(folder, { recursive: true, force: true });
    }, 100);
  }, 250);
}
