/** @module events/capture — what the capture engine emits: one of these per line of `analyze`. */
import type { HttpEvent } from './http.ts'
import type { TcpEvent } from './tcp.ts'
import type { TlsEvent } from './tls.ts'

export type CaptureEvent = TlsEvent | HttpEvent | TcpEvent
