#!/usr/bin/env node
// Entry point of the published binary: runs the compiled CLI (built by `npm install` via `prepare`).
import { main } from '../dist/cli/main.js'

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    console.error(err instanceof Error ? err.message : err)
    process.exitCode = 1
  },
)
