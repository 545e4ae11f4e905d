/** @module cli/exit-codes — process exit codes of every command (sysexits-style where one fits). */
export const EXIT_OK = 0
/** The input could not be read (missing file, I/O error). */
export const EXIT_IO = 1
/** The input is not a pcap/pcapng capture. */
export const EXIT_NOT_A_CAPTURE = 2
/** Bad usage (sysexits EX_USAGE). */
export const EXIT_USAGE = 64
