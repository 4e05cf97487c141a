// An exclusive, crash-tolerant lock on a directory: a file holding the owner's pid. A lock whose owner is gone
// (crash, kill -9) is taken over; a live owner makes the second process refuse to start.
import { open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

export class DirectoryLockedError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function acquireDirectoryLock(dir: string): Promise<{ release(): Promise<void> }> {
  const file = path.join(dir, '.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return { release: () => rm(file, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(await readFile(file, 'utf8').catch(() => ''));
      if (owner && alive(owner)) {
        throw new DirectoryLockedError(
          `${dir} is in use by process ${owner}: embedded PostgreSQL allows one process per DATA_DIR (set DATABASE_URL to share a PostgreSQL server)`,
        );
      }
      await rm(file, { force: true });
    }
  }
  throw new DirectoryLockedError(`could not lock ${dir}`);
}
