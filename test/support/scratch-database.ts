// A PostgreSQL database of one test's own (on the server of DATABASE_URL), which the test can cut off and restore.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export class ScratchDatabase {
  private constructor(
    private readonly admin: pg.Client,
    readonly name: string,
    readonly url: string,
  ) {}

  static async create(serverUrl: string, prefix: string): Promise<ScratchDatabase> {
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    const name = `${prefix}_${randomBytes(4).toString('hex')}`;
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return new ScratchDatabase(admin, name, url.toString());
  }

  /** As if the database went away: new connections are refused and open ones are ended. */
  async cutOff(): Promise<void> {
    await this.admin.query(`ALTER DATABASE ${this.name} ALLOW_CONNECTIONS false`);
    await this.admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [this.name]);
  }

  async restore(): Promise<void> {
    await this.admin.query(`ALTER DATABASE ${this.name} ALLOW_CONNECTIONS true`);
  }

  async drop(): Promise<void> {
    await this.admin.query(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`);
    await this.admin.end();
  }
}
