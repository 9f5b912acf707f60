// The out-of-memory runners' shared part: the loop that forks a server failing its N-th
// allocation (N = 1, 2, ...), a blocking-socket client, and the failure reports.
#ifndef ALLOC_RUNNER_H
#define ALLOC_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "meerkat.h"

#if !MG_ENABLE_ALLOC_FAULTS
#error "build with -DMG_ENABLE_ALLOC_FAULTS=1"
#endif

// A step's outcome: right, an allowed out-of-memory answer (5xx, or its WebSocket
// equivalent), the connection ended (allowed), or wrong (already reported)
enum { GOT, SOFT, ENDED, FAILED };

// What a runner program gives; the runner answers GET /disarm and GET /quit itself
struct runner {
  const char *name;                       // Starts every line printed
  mg_event_handler_t server_fn;           // The server's handler, in the child
  bool (*server_setup)(struct mg_mgr *);  // After listening, under the fault; false: exit 1. May be NULL
  void (*server_free)(void);              // Before mg_mgr_free. May be NULL
  bool (*prepare)(void);                  // In the parent before each run; false: the run is lost. May be NULL
  void (*script)(uint16_t port);          // The client script, while the fault is armed
  void (*serves_again)(uint16_t port);    // After /disarm: checks that the server still serves
  void (*after)(void);                    // After the server exited. May be NULL
};

// Runs N = 1, 2, ... (or only $ALLOC_FAULTS_ONLY), prints the summary; the exit status
int runner_main(const struct runner *r);

// Waits up to 5 s for a child to exit (its status in *status); false if it had to be killed
bool runner_wait_child(pid_t pid, int *status);

// Reports a failure of run N at the place where() named; returns FAILED
int fail(const char *fmt, ...);
void where(const char *fmt, ...);

struct client {
  int fd;
  char buf[24576];  // Bytes read and not yet consumed
  size_t len;
};

bool client_open(struct client *cl, uint16_t port);
void client_close(struct client *cl);
// false if the server closed the connection (a refused write is not a failure)
bool client_send(struct client *cl, const void *data, size_t len);
// More bytes, waiting until deadline: GOT, ENDED (EOF or reset), or FAILED (reported)
int client_fill(struct client *cl, uint64_t deadline);
void client_consume(struct client *cl, size_t n);
// A response head at the front of cl->buf, read until whole, parsed into hm (which points
// into cl->buf until the next consume) and its length into head_len: GOT, ENDED or FAILED
int client_head(struct client *cl, struct mg_http_message *hm, size_t *head_len, uint64_t deadline);
// The Content-Length body after that head into body (size bytes at most), consuming both:
// GOT, ENDED or FAILED (also when unframed or too big)
int client_body(struct client *cl, struct mg_http_message *hm, size_t head_len, char *body, size_t size,
                size_t *body_len, uint64_t deadline);

#endif
