/**
 * @module protocols/syslog
 * Syslog, pure and bounded: `formatRfc5424` (RFC 5424 §6 output), `parseSyslog` (RFC 5424 and
 * RFC 3164 input, including nginx's and raw lines, as typed records with anomaly codes) and
 * `SyslogTcpFramer` (RFC 6587 octet counting and non-transparent framing, also for NDJSON).
 */
export {
  formatRfc5424,
  formatTimestamp,
  escapeParamValue,
  DEFAULT_FACILITY,
  DEFAULT_SEVERITY,
  RFC5424_MAX_HOSTNAME_CHARS,
  RFC5424_MAX_APP_NAME_CHARS,
  RFC5424_MAX_PROCID_CHARS,
  RFC5424_MAX_MSGID_CHARS,
  RFC5424_MAX_SD_NAME_CHARS,
  RFC5424_MAX_SECFRAC_DIGITS,
  type Rfc5424Input,
  type SdElement,
  type SdParam,
  type SyslogPri,
} from './encode.ts'
export {
  parseSyslog,
  SYSLOG_ANOMALIES,
  MAX_SYSLOG_MESSAGE_BYTES,
  MAX_SYSLOG_SD_ITEMS,
  type ParseSyslogOptions,
  type SyslogAnomaly,
  type SyslogMessage,
} from './decode.ts'
export {
  SyslogTcpFramer,
  octetCountFrame,
  MAX_SYSLOG_FRAME_BYTES,
  MAX_SYSLOG_SKIP_FRAME_BYTES,
  type SyslogFramerStats,
  type SyslogTcpFramerOptions,
} from './framing.ts'
