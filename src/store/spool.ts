/**
 * @module store/spool
 * On-disk FIFO of batches the store could not take: NDJSON segments `<seq>.ndjson` in one
 * directory. A batch is a header line `{"batch":id,"type":…,"rows":N}` followed by its N rows,
 * byte for byte the JSONEachRow body the store is sent (no re-encoding either way), fsynced
 * before the append resolves. Bounded by `max_bytes` (E_SPOOL_FULL beyond). Batches are read
 * back oldest first; a segment is deleted once every batch in it is acknowledged. A batch cut
 * short by a crash was never acknowledged and is dropped on reading.
 *
 * NOTE: a crash between a replayed insert and its `ack` replays that segment's acknowledged
 * batches again; the tables deduplicate them by batch id (insert_deduplication_token).
 */
import { randomUUID } from 'node:crypto'
import { mkdir, open, readdir, readFile, stat, unlink } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { AppError } from '../errors.ts'
import { isStoreEventType, type StoreEventType } from './schema.ts'

export interface SpooledBatch {
  /** Batch id, also the insert deduplication token. */
  id: string
  type: StoreEventType
  rows: number
  /** JSONEachRow body: `rows` JSON objects, each followed by `\n`. */
  body: Buffer
}

export interface SpoolLimits {
  max_bytes: number
  /** A segment is closed and a new one started past this size (a batch is never split). */
  segment_max_bytes: number
}

/** Subdirectory for batches the store refused for their content, and unreadable lines. */
export const REJECTED_DIR = 'rejected'
const SEGMENT_RE = /^(\d{16})\.ndjson$/
const LOCK_FILE = 'spool.lock'

interface Segment {
  seq: number
  bytes: number
}

function segmentName(seq: number): string {
  return String(seq).padStart(16, '0') + '.ndjson'
}

function ioError(what: string, e: unknown): AppError {
  return new AppError(
    'E_SPOOL_IO',
    `spool: ${what}: ${e instanceof Error ? e.message : String(e)}`,
    { cause: e },
  )
}

const NEWLINE = 0x0a
const HEADER_PREFIX = Buffer.from('{"batch":')

function header(b: SpooledBatch): string {
  return `{"batch":${JSON.stringify(b.id)},"type":${JSON.stringify(b.type)},"rows":${b.rows}}\n`
}

function parseHeader(line: Buffer): { id: string; type: StoreEventType; rows: number } | undefined {
  if (!line.subarray(0, HEADER_PREFIX.length).equals(HEADER_PREFIX)) return undefined
  let v: unknown
  try {
    v = JSON.parse(line.toString('utf8'))
  } catch {
    return undefined
  }
  if (typeof v !== 'object' || v === null) return undefined
  const id: unknown = Reflect.get(v, 'batch')
  const type: unknown = Reflect.get(v, 'type')
  const rows: unknown = Reflect.get(v, 'rows')
  if (typeof id !== 'string' || !isStoreEventType(type)) return undefined
  if (typeof rows !== 'number' || !Number.isSafeInteger(rows) || rows < 1) return undefined
  return { id, type, rows }
}

/**
 * The batches of a segment's bytes, and the byte ranges that are not part of any batch (kept
 * aside as unreadable). A batch whose lines run past the end is a torn write: dropped.
 */
function parseSegment(buf: Buffer): { batches: SpooledBatch[]; unreadable: Buffer[] } {
  const batches: SpooledBatch[] = []
  const unreadable: Buffer[] = []
  let pos = 0
  while (pos < buf.length) {
    const eol = buf.indexOf(NEWLINE, pos)
    if (eol === -1) break // torn header
    const h = parseHeader(buf.subarray(pos, eol))
    if (h === undefined) {
      // Resynchronize on the next header line.
      let next = eol + 1
      while (
        next < buf.length &&
        !buf.subarray(next, next + HEADER_PREFIX.length).equals(HEADER_PREFIX)
      ) {
        const nl = buf.indexOf(NEWLINE, next)
        next = nl === -1 ? buf.length : nl + 1
      }
      unreadable.push(buf.subarray(pos, next))
      pos = next
      continue
    }
    let end = eol + 1
    let n = 0
    while (n < h.rows) {
      const nl = buf.indexOf(NEWLINE, end)
      if (nl === -1) break
      end = nl + 1
      n++
    }
    if (n < h.rows) break // torn batch
    batches.push({ id: h.id, type: h.type, rows: h.rows, body: buf.subarray(eol + 1, end) })
    pos = end
  }
  return { batches, unreadable }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return e instanceof Error && 'code' in e && e.code === 'EPERM'
  }
}

export class Spool {
  readonly dir: string
  readonly #limits: SpoolLimits
  readonly #segments: Segment[]
  #bytes: number
  /** The segment appends go to; null until the first append after open or a seal. */
  #active: { seq: number; fh: FileHandle } | null = null
  /** Head segment read into memory: its batches and how many are acknowledged. */
  #head: { seq: number; batches: SpooledBatch[]; next: number } | null = null
  #appending = 0
  #chain: Promise<unknown> = Promise.resolve()
  #closed = false

  private constructor(dir: string, limits: SpoolLimits, segments: Segment[]) {
    this.dir = dir
    this.#limits = limits
    this.#segments = segments
    this.#bytes = segments.reduce((n, s) => n + s.bytes, 0)
  }

  /**
   * Opens (creating) the spool in `dir` and takes its lock file: one process per spool. A lock
   * left by a dead process is taken over.
   */
  static async open(dir: string, limits: SpoolLimits): Promise<Spool> {
    try {
      await mkdir(join(dir, REJECTED_DIR), { recursive: true })
    } catch (e) {
      throw ioError(`cannot create ${dir}`, e)
    }
    await takeLock(dir)
    let names: string[]
    try {
      names = await readdir(dir)
    } catch (e) {
      throw ioError(`cannot list ${dir}`, e)
    }
    const segments: Segment[] = []
    for (const name of names) {
      const m = SEGMENT_RE.exec(name)
      if (m === null) continue
      const st = await stat(join(dir, name))
      segments.push({ seq: Number(m[1]), bytes: st.size })
    }
    segments.sort((a, b) => a.seq - b.seq)
    return new Spool(dir, limits, segments)
  }

  /** Bytes on disk in segments (acknowledged batches count until their segment is deleted). */
  get bytes(): number {
    return this.#bytes
  }

  /** True when no batch waits, counting appends still being written. */
  get isEmpty(): boolean {
    return this.#segments.length === 0 && this.#appending === 0
  }

  /** Appends a batch durably (fsync). Throws E_SPOOL_FULL past `max_bytes`, E_SPOOL_IO on I/O. */
  append(batch: SpooledBatch): Promise<void> {
    this.#appending++
    return this.#serial(async () => {
      try {
        await this.#append(batch)
      } finally {
        this.#appending--
      }
    })
  }

  /** The oldest batch not yet acknowledged, or undefined when the spool is empty. */
  peek(): Promise<SpooledBatch | undefined> {
    return this.#serial(() => this.#peek())
  }

  /** Drops the batch `peek` returned. */
  ack(): Promise<void> {
    return this.#serial(() => this.#advance())
  }

  /**
   * Moves the batch `peek` returned to `rejected/<id>.ndjson` (kept for an operator, never
   * replayed) and drops it from the queue.
   */
  reject(reason: string): Promise<void> {
    return this.#serial(async () => {
      const batch = await this.#peek()
      if (batch === undefined) return
      const note = `{"batch":${JSON.stringify(batch.id)},"type":"${batch.type}","rows":${batch.rows},"reason":${JSON.stringify(reason)}}\n`
      try {
        await writeDurable(
          join(this.dir, REJECTED_DIR, `${safeName(batch.id)}.ndjson`),
          Buffer.concat([Buffer.from(note), batch.body]),
        )
      } catch (e) {
        throw ioError('cannot write a rejected batch', e)
      }
      await this.#advance()
    })
  }

  async close(): Promise<void> {
    await this.#serial(async () => {
      if (this.#closed) return
      this.#closed = true
      await this.#seal()
      await unlink(join(this.dir, LOCK_FILE)).catch(() => undefined)
    })
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(() => {
      if (this.#closed) throw new AppError('E_SPOOL_IO', 'spool: closed')
      return fn()
    })
    this.#chain = run.catch(() => undefined)
    return run
  }

  async #append(batch: SpooledBatch): Promise<void> {
    if (batch.rows < 1 || batch.body.length === 0 || batch.body.at(-1) !== NEWLINE)
      throw new AppError('E_INVALID_ARGUMENT', 'spool: a batch body is newline-terminated rows')
    const buf = Buffer.concat([Buffer.from(header(batch), 'utf8'), batch.body])
    if (this.#bytes + buf.length > this.#limits.max_bytes)
      throw new AppError(
        'E_SPOOL_FULL',
        `spool full: ${this.#bytes} of ${this.#limits.max_bytes} bytes used, a batch of ` +
          `${batch.rows} events (${buf.length} bytes) does not fit; the store has been ` +
          `unavailable since these were spooled`,
      )
    let seg = this.#segments.at(-1)
    if (
      this.#active === null ||
      seg === undefined ||
      seg.seq !== this.#active.seq ||
      (seg.bytes > 0 && seg.bytes + buf.length > this.#limits.segment_max_bytes)
    ) {
      await this.#seal()
      seg = await this.#newSegment()
    }
    const active = this.#active
    if (active === null) throw new AppError('E_SPOOL_IO', 'spool: no active segment')
    try {
      await active.fh.write(buf)
      await active.fh.datasync()
    } catch (e) {
      // A torn line would corrupt the segment for the next batch: cut it off, start afresh.
      await active.fh.truncate(seg.bytes).catch(() => undefined)
      await this.#seal()
      throw ioError('cannot write a batch', e)
    }
    seg.bytes += buf.length
    this.#bytes += buf.length
  }

  async #newSegment(): Promise<Segment> {
    const seq = (this.#segments.at(-1)?.seq ?? 0) + 1
    let fh: FileHandle
    try {
      fh = await open(join(this.dir, segmentName(seq)), 'wx')
      await syncDir(this.dir)
    } catch (e) {
      throw ioError('cannot create a segment', e)
    }
    const seg = { seq, bytes: 0 }
    this.#segments.push(seg)
    this.#active = { seq, fh }
    return seg
  }

  async #seal(): Promise<void> {
    const a = this.#active
    this.#active = null
    if (a !== null) await a.fh.close().catch(() => undefined)
  }

  async #peek(): Promise<SpooledBatch | undefined> {
    while (true) {
      const seg = this.#segments[0]
      if (seg === undefined) return undefined
      if (this.#head === null || this.#head.seq !== seg.seq) await this.#load(seg)
      const head = this.#head
      if (head === null) return undefined
      const batch = head.batches[head.next]
      if (batch !== undefined) return batch
      await this.#dropHead()
    }
  }

  /** Reads the head segment; its unreadable lines go to `rejected/` rather than block the queue. */
  async #load(seg: Segment): Promise<void> {
    // Appends go to a new segment from now on, so the loaded copy stays complete.
    if (this.#active?.seq === seg.seq) await this.#seal()
    const name = segmentName(seg.seq)
    let bytes: Buffer
    try {
      bytes = await readFile(join(this.dir, name))
    } catch (e) {
      throw ioError(`cannot read ${name}`, e)
    }
    const { batches, unreadable } = parseSegment(bytes)
    if (unreadable.length > 0) {
      try {
        await writeDurable(
          join(this.dir, REJECTED_DIR, `${name}.unreadable-${randomUUID()}`),
          Buffer.concat(unreadable),
        )
      } catch (e) {
        throw ioError('cannot keep unreadable lines', e)
      }
    }
    this.#head = { seq: seg.seq, batches, next: 0 }
  }

  async #advance(): Promise<void> {
    const head = this.#head
    if (head === null) return
    head.next++
    if (head.next >= head.batches.length) await this.#dropHead()
  }

  async #dropHead(): Promise<void> {
    const seg = this.#segments[0]
    if (seg === undefined) return
    if (this.#active?.seq === seg.seq) await this.#seal()
    try {
      await unlink(join(this.dir, segmentName(seg.seq)))
    } catch (e) {
      if (!(e instanceof Error && 'code' in e && e.code === 'ENOENT'))
        throw ioError('cannot delete a replayed segment', e)
    }
    this.#segments.shift()
    this.#bytes -= seg.bytes
    this.#head = null
  }
}

function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 100)
}

async function writeDurable(path: string, text: string | Buffer): Promise<void> {
  const fh = await open(path, 'w')
  try {
    await fh.writeFile(text)
    await fh.sync()
  } finally {
    await fh.close()
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r')
  try {
    await fh.sync()
  } finally {
    await fh.close()
  }
}

async function takeLock(dir: string): Promise<void> {
  const path = join(dir, LOCK_FILE)
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx')
      await fh.writeFile(String(process.pid))
      await fh.close()
      return
    } catch (e) {
      if (!(e instanceof Error && 'code' in e && e.code === 'EEXIST'))
        throw ioError(`cannot lock ${dir}`, e)
    }
    const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim())
    if (owner === process.pid || (Number.isInteger(owner) && owner > 0 && pidAlive(owner)))
      throw new AppError('E_SPOOL_IO', `spool ${dir} is in use by process ${owner}`)
    // Lock of a dead process: remove it and retry the exclusive create.
    await unlink(path).catch(() => undefined)
  }
  throw new AppError('E_SPOOL_IO', `cannot lock ${dir}`)
}
