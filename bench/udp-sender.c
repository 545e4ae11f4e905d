/*
 * udp-sender: paced nginx access-log datagrams for bench/udp.ts.
 *
 *   udp-sender PORT RATE COUNT [SEED]
 *
 * Sends COUNT datagrams to 127.0.0.1:PORT at RATE datagrams/s and prints one line:
 *   sent=N seconds=S rate=R send_errors=E bytes=B
 *
 * Each datagram is what nginx writes for `access_log syslog:server=…,tag=nginx,severity=info`
 * with the `tlsight` log_format of examples/nginx/tlsight.conf: an RFC 3164 header built as
 * nginx's ngx_syslog_add_header() does, `<PRI>TIMESTAMP HOSTNAME TAG: ` (PRI 190 = local7.info,
 * RFC 3164 §4.1.1; TIMESTAMP `Mmm dd hh:mm:ss` with a space-padded day, §4.1.2; no trailing
 * newline), then the JSON record (escape=json). Client address, port, path, host and
 * user agent vary per datagram.
 *
 * Pacing: datagrams go out in small batches (sendmmsg) on a fixed schedule from CLOCK_MONOTONIC;
 * the sender sleeps until shortly before a batch is due and busy-waits the rest, so it neither
 * drifts nor burns a whole core at low rates.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH 64
#define DATAGRAM_BYTES 1024
/* Sleep only when the next batch is further away than this; spin for the rest. */
#define SPIN_NS 80000L

static const char *const MONTHS[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* escape=json output: `"` and `\` escaped, UTF-8 passed through. */
static const char *const AGENTS[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4_1) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "curl/8.5.0",
    "python-requests/2.31.0",
    "Go-http-client/2.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "okhttp/4.12.0",
    "Mozilla/5.0 \\\"quoted\\\" client \xc3\xa9",
};
#define N_AGENTS (sizeof AGENTS / sizeof AGENTS[0])

static const char *const HOSTS[] = {"example.com", "www.example.com", "api.example.com",
                                    "static.example.net", "shop.example.org"};
#define N_HOSTS (sizeof HOSTS / sizeof HOSTS[0])

static const char *const PATHS[] = {"/", "/index.html", "/api/v1/items/%u", "/static/app.%u.js",
                                    "/search?q=item%u&page=2", "/login", "/cart/%u/checkout"};
#define N_PATHS (sizeof PATHS / sizeof PATHS[0])

static const char *const METHODS[] = {"GET", "GET", "GET", "POST", "HEAD"};
#define N_METHODS (sizeof METHODS / sizeof METHODS[0])

static const char *const STATUSES[] = {"200", "200", "200", "304", "404", "301", "500"};
#define N_STATUSES (sizeof STATUSES / sizeof STATUSES[0])

static uint64_t rng_state;

/* xorshift64*: deterministic per SEED, cheap. */
static uint64_t rnd(void) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 2685821657736338717ULL;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static char hostname[256];

/* One nginx syslog datagram into buf; returns its length. */
static int build(char *buf, size_t cap, uint64_t seq) {
  struct timespec wall;
  clock_gettime(CLOCK_REALTIME, &wall);
  struct tm tm;
  localtime_r(&wall.tv_sec, &tm);
  uint64_t r = rnd();
  char path[128];
  snprintf(path, sizeof path, PATHS[r % N_PATHS], (unsigned)(seq % 100000));
  char client[64];
  if ((r >> 8) % 10 == 0)
    snprintf(client, sizeof client, "2001:db8:%x::%x", (unsigned)((r >> 16) & 0xffff),
             (unsigned)((r >> 32) & 0xffff));
  else
    snprintf(client, sizeof client, "%u.%u.%u.%u", 10 + (unsigned)((r >> 16) % 200),
             (unsigned)((r >> 24) & 255), (unsigned)((r >> 32) & 255),
             1 + (unsigned)((r >> 40) % 254));
  const char *host = HOSTS[(r >> 44) % N_HOSTS];
  return snprintf(buf, cap,
                  "<190>%s %2d %02d:%02d:%02d %s nginx: "
                  "{\"msec\":\"%ld.%03ld\","
                  "\"remote_addr\":\"%s\",\"remote_port\":\"%u\","
                  "\"server_addr\":\"10.0.0.1\",\"server_port\":\"443\","
                  "\"host\":\"%s\",\"request_method\":\"%s\",\"request_uri\":\"%s\","
                  "\"status\":\"%s\",\"http_user_agent\":\"%s\",\"request_time\":\"0.%03u\","
                  "\"ssl_protocol\":\"%s\",\"ssl_server_name\":\"%s\"}",
                  MONTHS[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, hostname,
                  (long)wall.tv_sec, wall.tv_nsec / 1000000L, client,
                  1024 + (unsigned)((r >> 20) % 64511), host, METHODS[(r >> 50) % N_METHODS],
                  path, STATUSES[(r >> 53) % N_STATUSES], AGENTS[(r >> 56) % N_AGENTS],
                  (unsigned)((r >> 4) % 250), ((r >> 60) & 1) ? "TLSv1.3" : "TLSv1.2", host);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s PORT RATE COUNT [SEED]\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[1]);
  double rate = atof(argv[2]);
  long count = atol(argv[3]);
  rng_state = argc > 4 ? strtoull(argv[4], NULL, 10) : 2026;
  if (rng_state == 0) rng_state = 1;
  if (port <= 0 || port > 65535 || rate <= 0 || count <= 0) {
    fprintf(stderr, "bad arguments\n");
    return 2;
  }
  if (gethostname(hostname, sizeof hostname - 1) != 0) strcpy(hostname, "localhost");
  /* nginx lower-cases the host name it logs (ngx_init_cycle). */
  for (char *p = hostname; *p; p++) *p = (char)tolower((unsigned char)*p);

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("socket");
    return 1;
  }
  int sndbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
    perror("connect");
    return 1;
  }

  /* About 2000 batches a second, at most MAX_BATCH datagrams each. */
  long batch = (long)(rate / 2000.0);
  if (batch < 1) batch = 1;
  if (batch > MAX_BATCH) batch = MAX_BATCH;
  double batch_ns = 1e9 * (double)batch / rate;

  static char bufs[MAX_BATCH][DATAGRAM_BYTES];
  struct iovec iov[MAX_BATCH];
  struct mmsghdr msgs[MAX_BATCH];
  memset(msgs, 0, sizeof msgs);

  long sent = 0, errors = 0;
  unsigned long long bytes = 0;
  int64_t start = now_ns();
  for (long k = 0; sent + errors < count; k++) {
    int64_t due = start + (int64_t)((double)k * batch_ns);
    int64_t wait = due - now_ns();
    if (wait > SPIN_NS) {
      struct timespec ts = {.tv_sec = (wait - SPIN_NS) / 1000000000LL,
                            .tv_nsec = (wait - SPIN_NS) % 1000000000LL};
      nanosleep(&ts, NULL);
    }
    while (now_ns() < due) {
    }
    long n = count - sent - errors;
    if (n > batch) n = batch;
    for (long i = 0; i < n; i++) {
      int len = build(bufs[i], DATAGRAM_BYTES, (uint64_t)(sent + errors + i));
      if (len >= DATAGRAM_BYTES) len = DATAGRAM_BYTES - 1;
      iov[i].iov_base = bufs[i];
      iov[i].iov_len = (size_t)len;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    long done = 0;
    while (done < n) {
      int r = sendmmsg(fd, msgs + done, (unsigned)(n - done), 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        /* ECONNREFUSED (nobody listening) or ENOBUFS: count the datagram as not sent. */
        errors++;
        done++;
        continue;
      }
      for (int i = 0; i < r; i++) bytes += msgs[done + i].msg_len;
      sent += r;
      done += r;
    }
  }
  double seconds = (double)(now_ns() - start) / 1e9;
  printf("sent=%ld seconds=%.3f rate=%.0f send_errors=%ld bytes=%llu\n", sent, seconds,
         seconds > 0 ? (double)sent / seconds : 0.0, errors, bytes);
  close(fd);
  return 0;
}
