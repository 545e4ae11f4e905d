/**
 * @module threads
 * Starting a worker thread from a module next to the caller. The compiled build runs the `.js`
 * file; run from source (tests, `node --import tsx`), the worker is TypeScript and loader hooks
 * do not reach worker threads, so it registers tsx itself first.
 */
import { Worker } from 'node:worker_threads'

/**
 * @param from the caller's `import.meta.url`
 * @param name the worker module's file name without extension, in the caller's folder
 */
export function startModuleWorker(from: string, name: string, workerData: unknown): Worker {
  if (!from.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, from), { workerData })
  const url = new URL(`./${name}.ts`, from).href
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url)}) })`
  return new Worker(boot, { eval: true, workerData })
}
