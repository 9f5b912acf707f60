// The measuring end of `make bench`'s WebSocket fan-out (driven by dash-ws.mjs): opens
// N WebSocket clients of the firmware's /api/ws, then times changes' pushes to each.
//   ws_fanout PORT N COOKIE [SERVER_PID]
// Prints "ready" once every client has its snapshot of the "leds" set, then reads lines
// "BODY TEXT" from stdin until it closes: for each, it POSTs BODY to /api/sets/leds,
// times for each client the arrival of TEXT from the moment before the POST was sent,
// and prints "push_ms=MAX push_p50_ms=.. push_p99_ms=.. first_ms=.. reply_ms=..
// fw_cpu_ms=.. fw_wait_ms=.. client_busy_ms=..", or says what went wrong and exits 1.
// From before the POST to the last arrival: fw_cpu_ms, the CPU time of SERVER_PID (user
// + system, /proc/PID/task/*/schedstat, in ns); fw_wait_ms, its time runnable but waiting
// for a CPU (others' load); both -1 without SERVER_PID; client_busy_ms, the time this
// client spent reading (its passes that found something), so that its spinning counts
// as idle. A C client with epoll: node's per-socket cost (about 17 us a message) made
// 10,000 arrivals take longer to see than to send.
// Clients connect from 127.0.0.1, 127.0.0.2, ... (5000 each) to stay clear of the
// ephemeral port range.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PER_SOURCE 5000
#define BATCH 200
#define TAIL 32  // Bytes kept from the last read: the text may straddle two

struct client {
  int fd;
  bool upgraded, ready, done;
  size_t tail_len;
  char tail[TAIL];
  double arrival_ms;
};

static struct client *s_clients;
static int s_epfd, s_n, s_port;
static double s_reply_ms = -1;  // From the POST to its reply
static double s_busy_ms;        // Spent in passes that found something to read
static const char *s_cookie;
static int s_server_pid;        // 0: not measured

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void fail(const char *what) {
  fprintf(stderr, "ws_fanout: %s: %s\n", what, errno ? strerror(errno) : "failed");
  exit(1);
}

// A blocking connect (loopback answers at once), then the upgrade request, then non-blocking
static int open_client(int i) {
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  if (fd < 0) fail("socket");
  struct sockaddr_in src = {.sin_family = AF_INET}, dst = {.sin_family = AF_INET, .sin_port = htons(s_port)};
  src.sin_addr.s_addr = htonl(0x7f000001 + (uint32_t) (i / PER_SOURCE));
  dst.sin_addr.s_addr = htonl(0x7f000001);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (bind(fd, (struct sockaddr *) &src, sizeof(src)) != 0) fail("bind");
  if (connect(fd, (struct sockaddr *) &dst, sizeof(dst)) != 0) fail("connect");
  char req[1024];
  int len = snprintf(req, sizeof(req),
                     "GET /api/ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nCookie: %s\r\n\r\n",
                     s_port, s_cookie);
  if (send(fd, req, (size_t) len, 0) != len) fail("send");
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t) i};
  if (epoll_ctl(s_epfd, EPOLL_CTL_ADD, fd, &ev) != 0) fail("epoll_ctl");
  return fd;
}

// Looks for text in what came, with the tail of the previous read in front
static bool seen(struct client *cl, const char *buf, size_t len, const char *text) {
  char joined[TAIL + 65536];
  memcpy(joined, cl->tail, cl->tail_len);
  memcpy(joined + cl->tail_len, buf, len);
  size_t total = cl->tail_len + len;
  bool found = memmem(joined, total, text, strlen(text)) != NULL;
  cl->tail_len = total < TAIL ? total : TAIL;
  memcpy(cl->tail, joined + total - cl->tail_len, cl->tail_len);
  return found;
}

// Reads what the ready clients have; returns how many reached their goal
// (ready: the snapshot; with text: the change)
static int pump(int timeout_ms, const char *text, double t0) {
  struct epoll_event evs[512];
  static char buf[65536];
  int reached = 0, n = epoll_wait(s_epfd, evs, 512, timeout_ms);
  double start = n > 0 ? now_ms() : 0;
  for (int k = 0; k < n; k++) {
    struct client *cl = &s_clients[evs[k].data.u32];
    ssize_t got;
    if (cl == &s_clients[s_n]) {  // The POST's connection: its reply
      while (recv(cl->fd, buf, sizeof(buf), 0) > 0) {
        if (s_reply_ms < 0) s_reply_ms = now_ms() - t0;
      }
      continue;
    }
    while ((got = recv(cl->fd, buf, sizeof(buf), 0)) > 0) {
      if (!cl->upgraded && memmem(buf, (size_t) got, "HTTP/1.1 101", 12) == NULL) {
        fprintf(stderr, "ws_fanout: client %ld refused: %.*s\n", (long) (cl - s_clients), (int) (got > 80 ? 80 : got), buf);
        exit(1);
      }
      cl->upgraded = true;
      if (text == NULL && !cl->ready && seen(cl, buf, (size_t) got, "{\"set\":\"leds\"")) cl->ready = true, reached++;
      if (text != NULL && !cl->done && seen(cl, buf, (size_t) got, text)) {
        cl->done = true, reached++;
        cl->arrival_ms = now_ms() - t0;
      }
    }
    if (got == 0) {
      fprintf(stderr, "ws_fanout: client %ld closed by the server\n", (long) (cl - s_clients));
      exit(1);
    }
  }
  if (n > 0) s_busy_ms += now_ms() - start;
  return reached;
}

// s_server_pid's threads so far, in ns (schedstat: time on a CPU, then time runnable
// but waiting for one); false when unknown
static bool server_schedstat(double *run_ns, double *wait_ns) {
  char path[64];
  *run_ns = *wait_ns = 0;
  snprintf(path, sizeof(path), "/proc/%d/task", s_server_pid);
  DIR *dir = s_server_pid > 0 ? opendir(path) : NULL;
  if (dir == NULL) return false;
  for (struct dirent *e; (e = readdir(dir)) != NULL;) {
    char file[sizeof(path) + sizeof(e->d_name) + 16];
    unsigned long long run = 0, wait = 0;
    if (e->d_name[0] == '.') continue;
    snprintf(file, sizeof(file), "%s/%s/schedstat", path, e->d_name);
    FILE *fp = fopen(file, "r");
    if (fp != NULL && fscanf(fp, "%llu %llu", &run, &wait) == 2) *run_ns += (double) run, *wait_ns += (double) wait;
    if (fp != NULL) fclose(fp);
  }
  closedir(dir);
  return true;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

// POSTs body over a connection of its own; returns when the reply's head has come
static double post(const char *body) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(s_port)};
  dst.sin_addr.s_addr = htonl(0x7f000001);
  if (fd < 0 || connect(fd, (struct sockaddr *) &dst, sizeof(dst)) != 0) fail("connect for the POST");
  char req[2048];
  int len = snprintf(req, sizeof(req),
                     "POST /api/sets/leds HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nCookie: %s\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     s_port, s_cookie, strlen(body), body);
  double t0 = now_ms();
  if (send(fd, req, (size_t) len, 0) != len) fail("send the POST");
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t) s_n};  // s_clients[s_n]: the POST's
  epoll_ctl(s_epfd, EPOLL_CTL_ADD, fd, &ev);
  s_clients[s_n].fd = fd;
  return t0;
}

// One line "BODY TEXT": POSTs BODY and prints the push's figures; false if a client missed it
static bool time_push(char *line) {
  char *text = strchr(line, ' ');
  if (text == NULL) fail("expected a BODY TEXT line on stdin");
  *text++ = '\0';
  text[strcspn(text, "\n")] = '\0';
  for (int i = 0; i < s_n; i++) s_clients[i].tail_len = 0, s_clients[i].done = false;
  double run0, wait0, run1 = 0, wait1 = 0, busy = -1;
  bool measured = server_schedstat(&run0, &wait0);
  s_busy_ms = 0, s_reply_ms = -1;
  double t0 = post(line), until = t0 + 10000;
  int done = 0;
  // Spinning, not sleeping in epoll_wait: waking a sleeping client is work the
  // kernel would do in the firmware's send() on loopback (an IPI per message in a VM)
  while ((done < s_n || s_reply_ms < 0) && now_ms() < until) {
    done += pump(0, text, t0);
    if (done == s_n && busy < 0) {  // At the last arrival
      busy = s_busy_ms;
      measured = measured && server_schedstat(&run1, &wait1);
    }
  }
  close(s_clients[s_n].fd);  // The POST's connection (closing takes it out of epoll)
  if (done < s_n) {
    fprintf(stderr, "ws_fanout: %d of %d clients missed the push\n", s_n - done, s_n);
    return false;
  }
  double *ms = malloc(sizeof(double) * (size_t) s_n), first = 1e9;
  if (ms == NULL) fail("malloc");
  for (int i = 0; i < s_n; i++) ms[i] = s_clients[i].arrival_ms, first = ms[i] < first ? ms[i] : first;
  qsort(ms, (size_t) s_n, sizeof(*ms), by_value);
  printf("push_ms=%.1f push_p50_ms=%.1f push_p99_ms=%.1f first_ms=%.1f reply_ms=%.1f fw_cpu_ms=%.1f fw_wait_ms=%.1f "
         "client_busy_ms=%.1f\n",
         ms[s_n - 1], ms[s_n / 2], ms[(size_t) (s_n * 0.99)], first, s_reply_ms, measured ? (run1 - run0) / 1e6 : -1,
         measured ? (wait1 - wait0) / 1e6 : -1, busy);
  fflush(stdout);
  free(ms);
  return true;
}

int main(int argc, char *argv[]) {
  if (argc < 4 || argc > 5 || (s_port = atoi(argv[1])) <= 0 || (s_n = atoi(argv[2])) <= 0) {
    fprintf(stderr, "usage: %s PORT N COOKIE [SERVER_PID]\n", argv[0]);
    return 2;
  }
  s_cookie = argv[3];
  if (argc == 5) s_server_pid = atoi(argv[4]);
  s_clients = calloc((size_t) s_n + 1, sizeof(*s_clients));
  if (s_clients == NULL || (s_epfd = epoll_create1(0)) < 0) fail("setup");
  int ready = 0;
  for (int i = 0; i < s_n; i += BATCH) {
    int end = i + BATCH < s_n ? i + BATCH : s_n;
    for (int k = i; k < end; k++) s_clients[k].fd = open_client(k);
    double until = now_ms() + 10000;
    while (ready < end && now_ms() < until) ready += pump(100, NULL, 0);
    if (ready < end) fail("snapshots did not come within 10 s");
  }
  printf("ready\n");
  fflush(stdout);
  char line[1024];
  while (fgets(line, sizeof(line), stdin) != NULL) {  // Its clients stay open until stdin closes
    if (!time_push(line)) return 1;
  }
  return 0;
}
