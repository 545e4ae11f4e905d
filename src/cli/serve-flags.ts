/**
 * @module cli/serve-flags
 * Node options `tlsight serve` runs with under `npm start` (package.json; a test holds the two
 * equal) and in `bench/udp.ts`. A young generation of 64 MiB semi-spaces instead of V8's 16 MiB
 * lets the records of a batch die young: at 50,000 UDP records/s the collector lost 79–102k
 * records a 15 s step (`queue_full`) with the default and 0–1.7k with it. `tlsight analyze`
 * does not take it: its peak RSS went from ~245 MB to ~440 MB for the same run time.
 */
export const SERVE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64']
