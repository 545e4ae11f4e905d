/** @module events/endpoint — how events and reports write an endpoint. */

/** `ip:port`, with an IPv6 address in brackets (RFC 3986 §3.2.2 style: `[2001:db8::1]:443`). */
export function endpoint(ip: string, port: number | string): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`
}
