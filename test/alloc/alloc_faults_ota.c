// Out-of-memory runner for OTA: in one process, an HTTP server streams POST /api/ota into
// the updater over the RAM flash backend as firmware/ota.c does, and a client uploads a
// signed image in pieces; each run fails one allocation, the signature check's included.
//
// The server begins the update at MG_EV_HTTP_HDRS, writes each MG_EV_HTTP_CHUNK, ends it
// at MG_EV_HTTP_MSG, makes room for its answer, puts the slot on trial in a boot record on
// a flash of its own and answers 200; on any failure it answers the updater's status and
// reason. mbedTLS allocates through the core's allocator (tls_global_init), so the public
// key's import and the ECDSA verification fail in turn too. Run N (N = 1, 2, ...) fails the
// N-th allocation after the server listens, in a child process, until a run makes fewer
// than N. In each run:
//  - the upload ends within UPLOAD_MS: the client read an answer, or its connection went;
//  - an answer is the 200, or a 5xx (out of memory): a 4xx would blame a good image;
//  - the boot record on flash names the slot pending exactly when the client got the 200,
//    and then the slot passes ota_slot_verify: no refusal, cut upload or lost answer leaves
//    the slot pending (nothing here clears it, so pending at the end is pending ever). The
//    client reads the 200 without allocating (into a spare buffer of the manager's), so its
//    own failures cannot lose a 200 the server wrote; were that to change, this would say so;
//  - then, with nothing failing, the same server takes the upload again and answers 200;
//  - the child exits with nothing for ASan, UBSan or LSan.
// A run with nothing failing must reach the 200 first, so the script is known to take that
// path. The image and its key are made in the parent, before any fault is armed.
#include <psa/crypto.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "alloc_runner.h"
#include "ota/ota_boot.h"
#include "ota/ota_update.h"
#include "tls/tls_internal.h"

#define NAME "alloc-faults-ota"
#define PAYLOAD_SIZE (256 * 1024)
#define IMAGE_SIZE (MG_OTA_HEADER_SIZE + PAYLOAD_SIZE + MG_OTA_SIG_SIZE)
#define SECTOR_SIZE 4096
#define SLOT_SIZE (72 * SECTOR_SIZE)  // The image and some room
#define BOOT_SECTOR_SIZE 256
#define PIECE_SIZE 16384  // The client queues this much once the last piece has gone
#define TRIAL_TRIES 3
#define REPLY_ROOM 256  // More than the 200 takes, head and all
#define UPLOAD_MS 3000
#define MAX_RUNS 20000  // A bound on N, far above what the script makes

enum { RUN_OK = 0, RUN_WRONG = 1 };  // A child's exit status

static uint8_t s_image[IMAGE_SIZE];
static uint8_t s_pubkey[OTA_PUBKEY_SIZE];
// Erased in the parent: each child starts from them and writes its own copy
static uint8_t s_slots[2 * SLOT_SIZE], s_boot_mem[2 * BOOT_SECTOR_SIZE];
static struct ota_flash s_flash, s_boot_flash;
static struct ota_update_cfg s_cfg = {&s_flash, "test", {1, 0, 0}, ota_verify_p256, s_pubkey};
static long s_n;  // The allocation that fails in this run; 0: none

// ---- The server: the updater and the boot record, as firmware/ota.c drives them ----

static struct ota_update s_up;
static struct ota_boot s_boot;

// What one upload came to, at both ends
struct upload {
  bool connected;  // The client's request head is queued
  size_t queued;   // Image bytes the client has queued
  int status;      // The answer the client read whole; 0: none
  char body[200];  // Its body
  bool closed;     // The client's connection is gone
};
static struct upload s_upload;

// The rest of the body is dropped unread, and the connection closes after the answer
static void server_refuse(struct mg_connection *c, int status, const char *why) {
  mg_http_reply(c, status, "Content-Type: application/json\r\n", "{\"error\":%m}\n", MG_ESC(why));
  c->is_draining = 1;
}

// The whole body is in: check it, put the slot on trial, answer
static void server_finish(struct mg_connection *c) {
  if (!ota_update_end(&s_up)) {
    server_refuse(c, s_up.status, s_up.error);
    return;
  }
  // Room for the answer before the slot is pending: a 200 lost to memory after that
  // would leave the device restarting into an update its uploader was never told of
  if (!mg_iobuf_resize(&c->send, c->send.len + REPLY_ROOM)) {
    mg_error(c, "out of memory for the answer");
    return;
  }
  if (!ota_boot_set_pending(&s_boot, TRIAL_TRIES)) {
    server_refuse(c, 500, "cannot save the boot record");
    return;
  }
  mg_http_reply(c, 200, "Content-Type: application/json\r\nConnection: close\r\n", "{\"ok\":true}\n");
  c->is_draining = 1;
}

static void server_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  if (ev == MG_EV_HTTP_HDRS) {
    if (ota_update_begin(&s_up, &s_cfg, 1, (uint32_t) hm->body.len, false)) mg_http_stream_body(c);
    else server_refuse(c, s_up.status, s_up.error);
  } else if (ev == MG_EV_HTTP_CHUNK) {
    if (!ota_update_write(&s_up, hm->chunk.buf, hm->chunk.len)) server_refuse(c, s_up.status, s_up.error);
  } else if (ev == MG_EV_HTTP_MSG) {
    if (s_up.state == OTA_UPDATE_RECEIVING) server_finish(c);
  }
}

// ---- The client: the head, then a piece of the image per poll once the last one went ----

static void client_send_piece(struct mg_connection *c, struct upload *up) {
  size_t n = IMAGE_SIZE - up->queued < PIECE_SIZE ? IMAGE_SIZE - up->queued : PIECE_SIZE;
  if (!mg_send(c, s_image + up->queued, n)) {
    c->is_closing = 1;  // Out of memory: the upload is cut here
    return;
  }
  up->queued += n;
}

static void client_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct upload *up = (struct upload *) c->fn_data;
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  if (ev == MG_EV_CONNECT) {
    up->connected = mg_printf(c, "POST /api/ota HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n", IMAGE_SIZE) > 0;
    if (!up->connected) c->is_closing = 1;
  } else if (ev == MG_EV_POLL && up->connected && up->status == 0 && up->queued < IMAGE_SIZE && c->send.len == 0) {
    client_send_piece(c, up);
  } else if (ev == MG_EV_HTTP_MSG) {
    up->status = mg_http_status(hm);
    struct mg_str body = hm->body;
    if (body.len > 0 && body.buf[body.len - 1] == '\n') body.len--;  // One line in the reports
    mg_snprintf(up->body, sizeof(up->body), "%.*s", (int) body.len, body.buf);
    c->is_draining = 1;
  } else if (ev == MG_EV_CLOSE) {
    up->closed = true;
  }
}

static bool only_listeners_left(struct mg_mgr *mgr) {
  for (struct mg_connection *c = mgr->conns; c != NULL; c = c->next) {
    if (!c->is_listening) return false;
  }
  return true;
}

static void say(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: N=%ld ", NAME, s_n);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

// One upload, until both of its connections are gone; false (said why) if that takes
// longer than UPLOAD_MS
static bool upload_run(struct mg_mgr *mgr, uint16_t port) {
  char url[64];
  memset(&s_upload, 0, sizeof(s_upload));
  mg_snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/ota", (unsigned) port);
  if (mg_http_connect(mgr, url, client_fn, &s_upload) == NULL) s_upload.closed = true;  // Out of memory: allowed
  uint64_t deadline = mg_millis() + UPLOAD_MS;
  while (!(s_upload.closed && only_listeners_left(mgr)) && mg_millis() < deadline) mg_mgr_poll(mgr, 10);
  if (s_upload.closed && only_listeners_left(mgr)) return true;
  say("the upload did not end within %d ms (%lu of %d bytes queued, answer %d, client %s)", UPLOAD_MS,
      (unsigned long) s_upload.queued, IMAGE_SIZE, s_upload.status, s_upload.closed ? "closed" : "open");
  return false;
}

// The invariant over what the upload left, judged with nothing failing; false (said why)
static bool upload_judge(void) {
  struct ota_boot on_flash;
  struct mg_ota_header h;
  char why[128] = "";
  ota_boot_load(&on_flash, &s_boot_flash);
  bool pending = on_flash.rec.pending == 1, valid = ota_slot_verify(&s_cfg, 1, &h, why, sizeof(why));
  int status = s_upload.status;
  if (status != 0 && status != 200 && status < 500) say("a %d for a good image: %s", status, s_upload.body);
  else if (status == 200 && !pending) say("the client got 200 but the boot record names no slot pending");
  else if (status == 200 && strcmp(s_upload.body, "{\"ok\":true}") != 0) say("a 200 with a wrong body: %s", s_upload.body);
  else if (pending && !valid) say("slot 1 is pending but does not verify: %s", why);
  else if (pending && status != 200) say("slot 1 is pending, but the client got %d (0: no answer)", status);
  else return true;
  return false;
}

// ---- One child: the upload with the N-th allocation failing, then again without ----

static int child_run(int fd) {
  struct mg_mgr mgr;
  alarm(30);  // Never outlive a parent that died
  mg_log_set(getenv("ALLOC_FAULTS_LOG") != NULL ? MG_LL_ERROR : MG_LL_NONE);
  ota_boot_load(&s_boot, &s_boot_flash);
  mg_mgr_init(&mgr);
  struct mg_connection *lsn = mg_http_listen(&mgr, "http://127.0.0.1:0", server_fn, NULL);
  uint16_t port = lsn == NULL ? 0 : mg_ntohs(lsn->loc.port);
  long armed_at = mg_alloc_count();
  mg_alloc_fail_after(s_n);
  bool ok = port != 0 && upload_run(&mgr, port);
  long made = mg_alloc_count() - armed_at;
  mg_alloc_fail_after(0);
  ok = ok && upload_judge();
  if (ok && s_n == 0 && s_upload.status != 200) {
    say("with nothing failing the upload got %d: %s", s_upload.status, s_upload.body);
    ok = false;
  }
  if (ok && s_n > 0 && (!upload_run(&mgr, port) || !upload_judge() || s_upload.status != 200)) {
    say("with nothing failing any more, the upload again got %d: %s", s_upload.status, s_upload.body);
    ok = false;
  }
  mg_mgr_free(&mgr);
  if (write(fd, &made, sizeof(made)) != (ssize_t) sizeof(made)) ok = false;
  return ok ? RUN_OK : RUN_WRONG;
}

// ---- The parent ----

// Run n in a child: true if it went right; *made: the allocations it made while armed
static bool fault_run(long n, long *made) {
  int fds[2], status = 0;
  *made = -1;
  s_n = n;
  if (pipe(fds) != 0) return false;
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    exit(child_run(fds[1]));
  }
  close(fds[1]);
  if (pid < 0 || read(fds[0], made, sizeof(*made)) != (ssize_t) sizeof(*made)) *made = -1;
  close(fds[0]);
  bool exited = pid > 0 && runner_wait_child(pid, &status);
  int code = exited && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (!exited) say("the child did not exit");
  else if (WIFSIGNALED(status)) say("the child died of signal %d", WTERMSIG(status));
  else if (code != RUN_OK && code != RUN_WRONG) say("the child exited with %d", code);  // RUN_WRONG: it said why
  return code == RUN_OK && *made >= 0;
}

// The image the client uploads: PAYLOAD_SIZE bytes for board "test", version 1.1.0,
// signed with a key made for it; the device keeps the public half
static bool image_make(void) {
  struct mg_ota_header h = {.format = MG_OTA_FORMAT_VERSION, .version = {1, 1, 0}, .build_time = 1700000000,
                            .payload_size = PAYLOAD_SIZE, .board = "test"};
  psa_key_attributes_t attr = PSA_KEY_ATTRIBUTES_INIT;
  psa_key_id_t key = 0;
  uint8_t *payload = s_image + MG_OTA_HEADER_SIZE, digest[32];
  size_t n = 0;
  for (size_t i = 0; i < PAYLOAD_SIZE; i++) payload[i] = (uint8_t) (i * 31 + i / 4096);
  mg_sha256(h.sha256, payload, PAYLOAD_SIZE);
  psa_set_key_type(&attr, PSA_KEY_TYPE_ECC_KEY_PAIR(PSA_ECC_FAMILY_SECP_R1));
  psa_set_key_bits(&attr, 256);
  psa_set_key_usage_flags(&attr, PSA_KEY_USAGE_SIGN_HASH);
  psa_set_key_algorithm(&attr, PSA_ALG_ECDSA(PSA_ALG_SHA_256));
  bool ok = tls_global_init() && psa_generate_key(&attr, &key) == PSA_SUCCESS &&
            psa_export_public_key(key, s_pubkey, sizeof(s_pubkey), &n) == PSA_SUCCESS && n == OTA_PUBKEY_SIZE &&
            mg_ota_header_write(&h, s_image);
  if (ok) {
    mg_ota_signed_digest(s_image, digest);
    ok = psa_sign_hash(key, PSA_ALG_ECDSA(PSA_ALG_SHA_256), digest, sizeof(digest), payload + PAYLOAD_SIZE,
                       MG_OTA_SIG_SIZE, &n) == PSA_SUCCESS &&
         n == MG_OTA_SIG_SIZE;
  }
  psa_destroy_key(key);
  return ok;
}

int main(void) {
  uint64_t start = mg_millis();
  long clean = 0, made = 0, n, failures = 0;
  signal(SIGPIPE, SIG_IGN);
  memset(s_slots, 0xFF, sizeof(s_slots));
  memset(s_boot_mem, 0xFF, sizeof(s_boot_mem));  // No record yet: slot 0 confirmed, nothing pending
  if (!ota_flash_ram_init(&s_flash, s_slots, sizeof(s_slots), SECTOR_SIZE) ||
      !ota_flash_ram_init(&s_boot_flash, s_boot_mem, sizeof(s_boot_mem), BOOT_SECTOR_SIZE) || !image_make()) {
    fprintf(stderr, "%s: cannot make the image or the flash\n", NAME);
    return 1;
  }
  if (!fault_run(0, &clean)) {
    fprintf(stderr, "%s: the upload fails with nothing failing\n", NAME);
    return 1;
  }
  // ALLOC_FAULTS_ONLY=N: that one run, to look at a failure (ALLOC_FAULTS_LOG=1 for the log)
  const char *only = getenv("ALLOC_FAULTS_ONLY");
  for (n = only != NULL ? atol(only) : 1; n <= MAX_RUNS; n++) {
    if (!fault_run(n, &made)) failures++;
    if (only != NULL || failures > 20 || (made >= 0 && made < n)) break;  // made < n: none failed, all tried
  }
  long tried = only != NULL ? 1 : n - 1;
  bool all = only != NULL || (made >= 0 && made < n);  // Else stopped early, or at MAX_RUNS
  printf("%s: %ld of %ld allocation sites tried, %ld failures (%.1f s)\n", NAME, tried, clean, failures,
         (double) (mg_millis() - start) / 1000.0);
  return failures == 0 && all ? 0 : 1;
}
