// WebSocket echo load for `make bench` (ws-echo.sh), in C: CONNS clients of ws://127.0.0.1:PORT/PATH
// each send a SIZE-byte masked text message and the next when its echo arrives, for SECONDS after
// a one-second warm-up; every echo is checked (a FIN text frame of SIZE bytes of 'x').
//   ws_echo_load PORT PATH CONNS SECONDS SIZE
// Prints "msgs=N seconds=S msgs_per_s=R conns=C size=B client_cpu_ms=T" (T: this process's CPU
// time while counting). Why C: node's ws client costs about 20 us a message, more than either
// server, so with it the benchmark measured its own client; this one costs a few.
#define _GNU_SOURCE
#include <arpa/inet.h>
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

#define MAX_SIZE 65535
#define HEAD_MAX 8  // Server frames: 2 bytes, 4 with a 16-bit length

struct client {
  int fd;
  size_t have;  // Bytes of the current echo read so far
};

static unsigned char s_frame[MAX_SIZE + 8];  // The masked message, the same every time
static size_t s_frame_len, s_echo_len, s_size;
static unsigned char *s_echo;  // One echo's bytes as the server must send them

static void fail(const char *what) {
  fprintf(stderr, "ws_echo_load: %s: %s\n", what, errno ? strerror(errno) : "failed");
  exit(1);
}

static double clock_ms(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// The client's frame (RFC 6455 5.2: masked) and the server's echo of it (not masked)
static void build_frames(void) {
  static const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
  size_t n = 0, e = 0;
  s_echo = malloc(s_size + HEAD_MAX);
  if (s_echo == NULL) fail("malloc");
  s_frame[n++] = s_echo[e++] = 0x81;  // FIN, text
  if (s_size < 126) {
    s_frame[n++] = (unsigned char) (0x80 | s_size);
    s_echo[e++] = (unsigned char) s_size;
  } else {
    s_frame[n++] = 0x80 | 126;
    s_echo[e++] = 126;
    s_frame[n++] = s_echo[e++] = (unsigned char) (s_size >> 8);
    s_frame[n++] = s_echo[e++] = (unsigned char) s_size;
  }
  memcpy(s_frame + n, key, 4);
  n += 4;
  for (size_t i = 0; i < s_size; i++) s_frame[n++] = (unsigned char) ('x' ^ key[i % 4]), s_echo[e++] = 'x';
  s_frame_len = n, s_echo_len = e;
}

static void send_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("send");  // One message in flight per connection: a full socket buffer (EAGAIN) is a failure here
    p += n, len -= (size_t) n;
  }
}

// Connects and upgrades, blocking (loopback answers at once); then non-blocking
static int open_client(int port, const char *path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  if (fd < 0) fail("socket");
  struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(fd, (struct sockaddr *) &dst, sizeof(dst)) != 0) fail("connect");
  char req[512], resp[1024];
  int len = snprintf(req, sizeof(req),
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
                     path, port);
  send_all(fd, req, (size_t) len);
  size_t got = 0;  // Byte by byte to the blank line: nothing of a first frame is taken
  while (got < sizeof(resp) - 1 && (got < 4 || memcmp(resp + got - 4, "\r\n\r\n", 4) != 0)) {
    ssize_t n = recv(fd, resp + got, 1, 0);
    if (n <= 0) fail("reading the upgrade's answer");
    got++;
  }
  resp[got] = '\0';
  if (strncmp(resp, "HTTP/1.1 101", 12) != 0) {
    fprintf(stderr, "ws_echo_load: upgrade refused: %.80s\n", resp);
    exit(1);
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

// Reads what the socket has; the number of whole, correct echoes (each sends the next message)
static int take(struct client *cl, unsigned char *buf, size_t buf_len) {
  int echoes = 0;
  for (;;) {
    ssize_t n = recv(cl->fd, buf, buf_len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return echoes;
    if (n <= 0) fail(n == 0 ? "server closed a connection" : "recv");
    for (size_t off = 0; off < (size_t) n;) {
      size_t k = s_echo_len - cl->have < (size_t) n - off ? s_echo_len - cl->have : (size_t) n - off;
      if (memcmp(buf + off, s_echo + cl->have, k) != 0) {
        fprintf(stderr, "ws_echo_load: an echo differs from the message at byte %zu\n", cl->have);
        exit(1);
      }
      cl->have += k, off += k;
      if (cl->have == s_echo_len) {
        cl->have = 0, echoes++;
        send_all(cl->fd, s_frame, s_frame_len);
      }
    }
  }
}

int main(int argc, char *argv[]) {
  if (argc != 6) {
    fprintf(stderr, "usage: ws_echo_load PORT PATH CONNS SECONDS SIZE\n");
    return 2;
  }
  int port = atoi(argv[1]), conns = atoi(argv[3]);
  double secs = atof(argv[4]);
  s_size = (size_t) atol(argv[5]);
  if (port <= 0 || conns <= 0 || secs <= 0 || s_size > MAX_SIZE) {
    fprintf(stderr, "ws_echo_load: bad arguments\n");
    return 2;
  }
  build_frames();
  struct client *clients = calloc((size_t) conns, sizeof(*clients));
  int epfd = epoll_create1(0);
  if (clients == NULL || epfd < 0) fail("setup");
  for (int i = 0; i < conns; i++) {
    clients[i].fd = open_client(port, argv[2]);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &clients[i]};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, clients[i].fd, &ev) != 0) fail("epoll_ctl");
  }
  for (int i = 0; i < conns; i++) send_all(clients[i].fd, s_frame, s_frame_len);

  static unsigned char buf[1 << 16];
  struct epoll_event evs[256];
  double start = clock_ms(CLOCK_MONOTONIC), counting_from = start + 1000, end = counting_from + secs * 1000;
  double cpu0 = 0, now = start;
  long long count = 0;
  bool counting = false;
  while (now < end) {
    int n = epoll_wait(epfd, evs, 256, 100);
    if (n < 0 && errno != EINTR) fail("epoll_wait");
    now = clock_ms(CLOCK_MONOTONIC);
    if (!counting && now >= counting_from) counting = true, counting_from = now, cpu0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
    for (int i = 0; i < n; i++) {
      int echoes = take(evs[i].data.ptr, buf, sizeof(buf));
      if (counting) count += echoes;
    }
  }
  double elapsed = (now - counting_from) / 1e3, cpu_ms = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
  printf("msgs=%lld seconds=%.2f msgs_per_s=%.0f conns=%d size=%zu client_cpu_ms=%.0f\n", count, elapsed,
         count / elapsed, conns, s_size, cpu_ms);
  return 0;
}
