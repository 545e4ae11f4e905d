/**
 * A MariaDB server for the sink's tests: the one at `MARIADB_TEST_URL` when set (a database per
 * test is created there and dropped at the end), else a throwaway `mariadbd` started on a temp
 * data directory and a free port, stopped and deleted at the end. Without either the tests skip
 * naming the Debian package (a failure under `TLSIGHT_REQUIRE_ALL=1`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createConnection, type Connection } from 'mysql2/promise'
import { freePort } from '../../../../test/helpers/ports.ts'
import { hasTool, requireAll } from '../../../../test/helpers/tools.ts'
import { parseMysqlUrl, type MysqlServer } from '../config.ts'

export type MariaDbRequirement = { ok: true; db: TestMariaDb } | { ok: false; skip: string }

const SKIP = 'MariaDB not available: apt-get install mariadb-server (or set MARIADB_TEST_URL)'

function findMariadbd(): string | null {
  if (hasTool('mariadbd')) return 'mariadbd'
  for (const p of ['/usr/sbin/mariadbd', '/usr/libexec/mariadbd']) {
    try {
      accessSync(p, constants.X_OK)
      return p
    } catch {
      // not there
    }
  }
  return null
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/** A server the tests may use: admin access, fresh databases, and (when owned) stop / start. */
export class TestMariaDb {
  readonly host: string
  readonly port: number
  readonly #admin: MysqlServer
  /** Set for the throwaway server only. */
  readonly #own: { dataDir: string; bin: string } | null
  #child: ChildProcess | null = null
  readonly #databases: string[] = []
  readonly #users: string[] = []

  private constructor(admin: MysqlServer, own: { dataDir: string; bin: string } | null) {
    this.#admin = admin
    this.host = admin.host
    this.port = admin.port
    this.#own = own
  }

  /** True when the tests started this server (and may stop it). */
  get owned(): boolean {
    return this.#own !== null
  }

  static async open(): Promise<MariaDbRequirement> {
    const url = process.env['MARIADB_TEST_URL']
    if (url !== undefined && url !== '') {
      const db = new TestMariaDb(parseMysqlUrl(url, 'MARIADB_TEST_URL'), null)
      await db.#waitReady(30_000)
      return { ok: true, db }
    }
    const bin = findMariadbd()
    if (bin === null || !hasTool('mariadb-install-db')) {
      if (requireAll()) throw new Error(`${SKIP} (TLSIGHT_REQUIRE_ALL=1 forbids skipping)`)
      return { ok: false, skip: SKIP }
    }
    const dataDir = mkdtempSync(join(tmpdir(), 'tlsight-mariadb-'))
    const install = spawnSync(
      'mariadb-install-db',
      [
        '--no-defaults',
        `--datadir=${join(dataDir, 'data')}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        ...(process.getuid?.() === 0 ? ['--user=root'] : []),
      ],
      { encoding: 'utf8', timeout: 120_000 },
    )
    if (install.status !== 0)
      throw new Error(`mariadb-install-db failed: ${install.stderr || install.stdout}`)
    const port = await freePort()
    const admin: MysqlServer = {
      host: '127.0.0.1',
      port,
      user: 'root',
      password: null,
      database: 'mysql',
      ssl_mode: 'disabled',
    }
    const db = new TestMariaDb(admin, { dataDir, bin })
    await db.start()
    return { ok: true, db }
  }

  /** Starts the throwaway server (again) on its data directory and port. */
  async start(): Promise<void> {
    const own = this.#own
    if (own === null) throw new Error('not our server: cannot start it')
    if (this.#child !== null) return
    const child = spawn(
      own.bin,
      [
        '--no-defaults',
        `--datadir=${join(own.dataDir, 'data')}`,
        `--socket=${join(own.dataDir, 'sock')}`,
        `--pid-file=${join(own.dataDir, 'pid')}`,
        `--log-error=${join(own.dataDir, 'error.log')}`,
        '--bind-address=127.0.0.1',
        `--port=${this.port}`,
        '--skip-networking=0',
        '--skip-name-resolve',
        '--skip-log-bin',
        '--innodb-buffer-pool-size=64M',
        ...(process.getuid?.() === 0 ? ['--user=root'] : []),
      ],
      { stdio: 'ignore' },
    )
    this.#child = child
    child.once('exit', () => {
      if (this.#child === child) this.#child = null
    })
    process.once('exit', () => child.kill('SIGKILL'))
    await this.#waitReady(60_000)
  }

  /** Stops the throwaway server (SIGTERM: a clean shutdown) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.#child
    if (child === null) return
    const exited = new Promise<void>((r) => child.once('exit', () => r()))
    child.kill('SIGTERM')
    await exited
    this.#child = null
  }

  /** An admin connection (UTC session) to `database`, or to no database. */
  async admin(database?: string): Promise<Connection> {
    const conn = await createConnection({
      host: this.#admin.host,
      port: this.#admin.port,
      user: this.#admin.user,
      password: this.#admin.password?.reveal(),
      database,
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
    })
    await conn.query("SET time_zone = '+00:00'")
    return conn
  }

  /** A fresh, empty database; dropped by `close()`. */
  async createDatabase(name: string): Promise<string> {
    if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`bad test database name ${name}`)
    const full = `tlsight_test_${name}_${process.pid}`
    const conn = await this.admin()
    try {
      await conn.query(`DROP DATABASE IF EXISTS \`${full}\``)
      await conn.query(`CREATE DATABASE \`${full}\``)
    } finally {
      await conn.end()
    }
    this.#databases.push(full)
    return full
  }

  /**
   * A user with a password for `database` (created through the admin connection), or the
   * admin's own credentials when it may not create users.
   */
  async createUser(
    user: string,
    password: string,
    database: string,
  ): Promise<{ user: string; password: string }> {
    const conn = await this.admin()
    try {
      await conn.query('CREATE OR REPLACE USER ?@? IDENTIFIED BY ?', [user, '%', password])
      this.#users.push(user)
      await conn.query(`GRANT ALL PRIVILEGES ON \`${database}\`.* TO ?@?`, [user, '%'])
      return { user, password }
    } catch (e) {
      const pw = this.#admin.password?.reveal()
      if (pw === undefined) throw e
      return { user: this.#admin.user, password: pw }
    } finally {
      await conn.end()
    }
  }

  /** `mysql://…` for `database` with the admin's (or the given) credentials. */
  url(database: string, creds?: { user: string; password: string }, port = this.port): string {
    const user = encodeURIComponent(creds?.user ?? this.#admin.user)
    const pw = creds?.password ?? this.#admin.password?.reveal()
    const auth = pw === undefined ? user : `${user}:${encodeURIComponent(pw)}`
    return `mysql://${auth}@${this.host}:${port}/${database}`
  }

  /** Drops the test databases; stops and deletes the throwaway server. */
  async close(): Promise<void> {
    if (this.#own === null || this.#child !== null) {
      const conn = await this.admin().catch(() => null)
      if (conn !== null) {
        for (const d of this.#databases) await conn.query(`DROP DATABASE IF EXISTS \`${d}\``)
        for (const u of this.#users) await conn.query('DROP USER IF EXISTS ?@?', [u, '%'])
        await conn.end()
      }
    }
    if (this.#own !== null) {
      await this.stop()
      rmSync(this.#own.dataDir, { recursive: true, force: true })
    }
  }

  async #waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    let last: unknown = null
    while (Date.now() < deadline) {
      if (this.#own !== null && this.#child === null)
        throw new Error(`mariadbd exited at start; see ${join(this.#own.dataDir, 'error.log')}`)
      try {
        const conn = await this.admin()
        await conn.end()
        return
      } catch (e) {
        last = e
        await sleep(100)
      }
    }
    throw new Error(`MariaDB did not answer within ${timeoutMs} ms: ${String(last)}`)
  }
}
