// Mongoose 7 compatibility of the base layer (strings, printing, iobufs, timers,
// files, byte order, build names), built against dist/mongoose.h and
// dist/meerkat.c alone. Each case pins one behaviour Mongoose documents.
#include <criterion/criterion.h>
#include <unistd.h>
#include "mongoose.h"

static void bump(void *arg) {
  (*(int *) arg)++;
}

// 1. Architecture names
Test(compat_base, mg_arch_is_unix_on_this_host) {
  cr_assert_eq(MG_ARCH, MG_ARCH_UNIX);
  cr_assert_neq(MG_ARCH_UNIX, MG_ARCH_WIN32);
  cr_assert_neq(MG_ARCH_NEWLIB, MG_ARCH_CUSTOM);
#if MG_ARCH == MG_ARCH_UNIX
  cr_assert(true);
#else
  cr_assert_fail("MG_ARCH must be usable in #if");
#endif
}

// 2. Big-endian loads and stores from byte pointers
Test(compat_base, load_and_store_big_endian) {
  uint8_t b[9] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};
  cr_assert_eq(MG_LOAD_BE16(b), 0x0102);
  cr_assert_eq(MG_LOAD_BE24(b), 0x010203);
  cr_assert_eq(MG_LOAD_BE32(b + 1), 0x02030405u, "unaligned pointer");
  cr_assert_eq(MG_LOAD_BE64(b), 0x0102030405060708ull);
  uint8_t o[8] = {0};
  MG_STORE_BE16(o, 0xabcd);
  cr_assert(o[0] == 0xab && o[1] == 0xcd);
  MG_STORE_BE24(o, 0x123456);
  cr_assert(o[0] == 0x12 && o[1] == 0x34 && o[2] == 0x56);
  MG_STORE_BE32(o, 0xdeadbeefu);
  cr_assert(o[0] == 0xde && o[3] == 0xef);
  MG_STORE_BE64(o, 0x1122334455667788ull);
  cr_assert(o[0] == 0x11 && o[7] == 0x88);
  cr_assert_eq(MG_LOAD_BE64(o), 0x1122334455667788ull);
}

// 3. Functions
Test(compat_base, url_encode_as_documented) {
  char buf[64];
  cr_assert_eq(mg_url_encode("example.org/test", 16, buf, sizeof(buf)), 18);
  cr_assert_str_eq(buf, "example.org%2Ftest");
  cr_assert_eq(mg_url_encode("a b&c", 5, buf, sizeof(buf)), 9);
  cr_assert_str_eq(buf, "a%20b%26c");
  cr_assert_eq(mg_url_encode("a b", 3, buf, 5), 0, "does not fit");
}

Test(compat_base, print_hex_and_base64_helpers) {
  char buf[64];
  cr_assert_eq(mg_snprintf(buf, sizeof(buf), "%M", mg_print_hex, 3, "\x01\xab\xff"), 6);
  cr_assert_str_eq(buf, "01abff");
  cr_assert_eq(mg_snprintf(buf, sizeof(buf), "[%M]", mg_print_base64, 5, "abcde"), 10);
  cr_assert_str_eq(buf, "[YWJjZGU=]");
  mg_snprintf(buf, sizeof(buf), "%M", mg_print_base64, 0, "");
  cr_assert_str_eq(buf, "");
}

Test(compat_base, str_to_num) {
  uint8_t u8 = 0;
  uint16_t u16 = 0;
  uint32_t u32 = 0;
  uint64_t u64 = 0;
  cr_assert(mg_str_to_num(mg_str("255"), 10, &u8, sizeof(u8)));
  cr_assert_eq(u8, 255);
  cr_assert_not(mg_str_to_num(mg_str("256"), 10, &u8, sizeof(u8)), "overflow");
  cr_assert(mg_str_to_num(mg_str("ffff"), 16, &u16, sizeof(u16)));
  cr_assert_eq(u16, 0xffff);
  cr_assert(mg_str_to_num(mg_str("0x1F"), 0, &u32, sizeof(u32)));
  cr_assert_eq(u32, 31);
  cr_assert(mg_str_to_num(mg_str("0b101"), 0, &u32, sizeof(u32)));
  cr_assert_eq(u32, 5);
  cr_assert(mg_str_to_num(mg_str("18446744073709551615"), 10, &u64, sizeof(u64)));
  cr_assert_eq(u64, UINT64_MAX);
  cr_assert_not(mg_str_to_num(mg_str("12a"), 10, &u32, sizeof(u32)));
  cr_assert_not(mg_str_to_num(mg_str(""), 10, &u32, sizeof(u32)));
}

// 7.22: six unsigned integers, month 1-12, seconds since the epoch
Test(compat_base, timegm_takes_the_date_in_six_numbers) {
  cr_assert_eq(mg_timegm(1970, 1, 1, 0, 0, 0), 0);
  cr_assert_eq(mg_timegm(2024, 2, 29, 12, 34, 56), 1709210096ULL, "2024-02-29T12:34:56Z");
  cr_assert_eq(mg_timegm(2000, 12, 31, 23, 59, 59), 978307199ULL, "month 12 is December");
  cr_assert_eq(mg_timegm(2038, 1, 19, 3, 14, 8), 2147483648ULL, "past 32-bit time_t");
  uint64_t (*fn)(unsigned, unsigned, unsigned, unsigned, unsigned, unsigned) = mg_timegm;
  cr_assert_not_null(fn, "the prototype is 7.22's");
}

Test(compat_base, version_is_the_mongoose_release_we_match) {
  cr_assert_str_eq(MG_VERSION, "7.22");
}

Test(compat_base, htonll_and_ntohll) {
  uint64_t v = mg_htonll(0x0102030405060708ull);
  const uint8_t *b = (const uint8_t *) &v;
  cr_assert(b[0] == 1 && b[7] == 8, "network order is big-endian");
  cr_assert_eq(mg_ntohll(v), 0x0102030405060708ull);
}

Test(compat_base, path_is_sane) {
  cr_assert(mg_path_is_sane(mg_str("/a/b.txt")));
  cr_assert(mg_path_is_sane(mg_str("/a/..b/c")));
  cr_assert_not(mg_path_is_sane(mg_str("/a/../b")));
  cr_assert_not(mg_path_is_sane(mg_str("..")));
  cr_assert_not(mg_path_is_sane(mg_str("/a/..")));
  cr_assert_not(mg_path_is_sane(mg_str("a\\..\\b")));
}

Test(compat_base, file_read_returns_mg_str_and_file_printf_writes) {
  char path[64];
  mg_snprintf(path, sizeof(path), "/tmp/meerkat-compat-base-%d.txt", (int) getpid());
  cr_assert(mg_file_printf(&mg_fs_posix, path, "{%m:%d}", MG_ESC("a"), 42));
  struct mg_str s = mg_file_read(&mg_fs_posix, path);
  cr_assert_not_null(s.buf);
  cr_assert_eq(s.len, 8);
  cr_assert_str_eq(s.buf, "{\"a\":42}", "NUL-terminated");
  mg_free((void *) s.buf);
  unlink(path);
  s = mg_file_read(&mg_fs_posix, path);
  cr_assert(s.buf == NULL && s.len == 0);
}

Test(compat_base, calloc_and_free) {
  char *p = (char *) mg_calloc(4, 8);
  cr_assert_not_null(p);
  for (int i = 0; i < 32; i++) cr_assert_eq(p[i], 0);
  mg_free(p);
}

// 4. mg_match: '?' one char, '*' anything but '/', '#' anything
Test(compat_base, match_as_documented) {
  struct mg_str caps[3];
  cr_assert(mg_match(mg_str("/foo/bar"), mg_str("/*/*"), caps));
  cr_assert(mg_strcmp(caps[0], mg_str("foo")) == 0);
  cr_assert(mg_strcmp(caps[1], mg_str("bar")) == 0);
  cr_assert_eq(caps[2].len, 0, "the last cap is an empty string");
  cr_assert_not(mg_match(mg_str("/api/f2/a/b"), mg_str("/api/f2/*"), NULL));
  cr_assert(mg_match(mg_str("/api/f2/a/b"), mg_str("/api/f2/#"), caps));
  cr_assert(mg_strcmp(caps[0], mg_str("a/b")) == 0);
  cr_assert(mg_match(mg_str("/x"), mg_str("/?"), NULL));
  cr_assert_not(mg_match(mg_str("/xy"), mg_str("/?"), NULL));
  cr_assert(mg_match(mg_str("a*b"), mg_str("a*b"), NULL), "a literal '*' in the string");
}

// 5. Printing
Test(compat_base, alternate_form_hex) {
  char buf[32];
  mg_snprintf(buf, sizeof(buf), "%#x %#X %#x %#06x", 255, 255, 0, 10);
  cr_assert_str_eq(buf, "0xff 0XFF 0 0x000a");
}

Test(compat_base, print_ip_v4_and_v6) {
  char buf[64];
  struct mg_addr a;
  memset(&a, 0, sizeof(a));
  cr_assert(mg_aton(mg_str("10.1.2.3"), &a));
  mg_snprintf(buf, sizeof(buf), "%M", mg_print_ip, &a);
  cr_assert_str_eq(buf, "10.1.2.3");
  cr_assert(mg_aton(mg_str("2001:db8::1"), &a));
  mg_snprintf(buf, sizeof(buf), "%M", mg_print_ip, &a);
  cr_assert_str_eq(buf, "2001:db8::1", "Meerkat prints RFC 5952 text");
}

Test(compat_base, base64_needs_room_for_the_nul) {
  char buf[16];
  memset(buf, 'x', sizeof(buf));
  cr_assert_eq(mg_base64_encode((const unsigned char *) "abcde", 5, buf, sizeof(buf)), 8);
  cr_assert_str_eq(buf, "YWJjZGU=");
  cr_assert_eq(mg_base64_encode((const unsigned char *) "abcde", 5, buf, 8), 0, "8 characters and no room for the NUL");
  cr_assert_eq(mg_base64_encode((const unsigned char *) "abcde", 5, buf, 9), 8);
  cr_assert_str_eq(buf, "YWJjZGU=");
  char out[16];
  cr_assert_eq(mg_base64_decode("Q2VzYW50YQ==", 12, out, sizeof(out)), 7);
  cr_assert_str_eq(out, "Cesanta");
  cr_assert_eq(mg_base64_decode("Q2VzYW50YQ==", 12, out, 7), 0, "7 bytes and no room for the NUL");
  cr_assert_eq(mg_base64_decode("Q2VzYW50YQ==", 12, out, 8), 7);
  cr_assert_str_eq(out, "Cesanta");
  cr_assert_eq(mg_base64url_encode((const unsigned char *) "ab?", 3, buf, 4), 0);
  cr_assert_eq(mg_base64url_encode((const unsigned char *) "ab?", 3, buf, 5), 4);
  cr_assert_str_eq(buf, "YWI_");
  cr_assert_eq(mg_base64url_decode("YWI_", 4, out, 3), 0);
  cr_assert_eq(mg_base64url_decode("YWI_", 4, out, 4), 3);
  cr_assert_str_eq(out, "ab?");
}

Test(compat_base, base64_decode_refuses_invalid_input) {
  char out[16];
  static const char *bad[] = {"Q", "Q2VzY", "Q=VzYW50", "Q2Vz=A==", "Q2V*YW50", "Q2Vz YW5", "===="};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    cr_assert_eq(mg_base64_decode(bad[i], strlen(bad[i]), out, sizeof(out)), 0, "%s", bad[i]);
  }
  static const char *bad_url[] = {"Q", "Q2VzY", "Q2V+YW50", "Q2V/", "Q2Vz.A"};
  for (size_t i = 0; i < sizeof(bad_url) / sizeof(bad_url[0]); i++) {
    cr_assert_eq(mg_base64url_decode(bad_url[i], strlen(bad_url[i]), out, sizeof(out)), 0, "%s", bad_url[i]);
  }
  cr_assert_eq(mg_base64_decode("", 0, out, sizeof(out)), 0, "nothing decoded");
}

// 6. iobuf
Test(compat_base, iobuf_add_inserts_and_moves_what_follows) {
  struct mg_iobuf io = {NULL, 0, 0, 16};
  cr_assert_eq(mg_iobuf_add(&io, 0, "hello", 5), 5);
  cr_assert_eq(io.size, 16, "size is aligned");
  cr_assert_eq(mg_iobuf_add(&io, 0, ">", 1), 1);
  cr_assert(memcmp(io.buf, ">hello", 6) == 0);
  cr_assert_eq(mg_iobuf_add(&io, 3, "--", 2), 2);
  cr_assert(memcmp(io.buf, ">he--llo", 8) == 0);
  cr_assert_eq(mg_iobuf_add(&io, io.len, NULL, 3), 3, "buf NULL reserves room");
  cr_assert_eq(io.len, 11);
  mg_iobuf_free(&io);
  cr_assert(io.buf == NULL && io.len == 0 && io.size == 0);
}

Test(compat_base, iobuf_add_past_len_zero_fills_the_gap) {
  struct mg_iobuf io = {NULL, 0, 0, 16};
  cr_assert_eq(mg_iobuf_add(&io, 0, "hello", 5), 5);
  memset(io.buf + io.len, 'x', io.size - io.len);  // Stale bytes past len
  cr_assert_eq(mg_iobuf_add(&io, 10, "!", 1), 1);
  cr_assert_eq(io.len, 11, "len becomes ofs + len");
  cr_assert(memcmp(io.buf, "hello\0\0\0\0\0!", 11) == 0, "the gap reads as zeros");
  cr_assert_eq(io.size, 16);
  cr_assert_eq(mg_iobuf_add(&io, 40, "ab", 2), 2);
  cr_assert_eq(io.len, 42);
  cr_assert_eq(io.size, 48, "a multiple of align");
  for (size_t i = 11; i < 40; i++) cr_assert_eq(io.buf[i], 0, "byte %zu", i);
  cr_assert(memcmp(io.buf + 40, "ab", 2) == 0);
  mg_iobuf_free(&io);
}

Test(compat_base, iobuf_sizes_are_multiples_of_align) {
  struct mg_iobuf io = {NULL, 0, 0, 0};
  cr_assert(mg_iobuf_init(&io, 10, 8));
  cr_assert_eq(io.size, 16);
  cr_assert(mg_iobuf_resize(&io, 17));
  cr_assert_eq(io.size, 24);
  cr_assert_eq(mg_iobuf_add(&io, 0, "0123456789abcdefghijklmnop", 26), 26);
  cr_assert_eq(io.size, 32);
  mg_iobuf_free(&io);
}

Test(compat_base, iobuf_resize_below_len_trims_len) {
  struct mg_iobuf io = {NULL, 0, 0, 0};
  cr_assert(mg_iobuf_init(&io, 8, 0));
  cr_assert_eq(mg_iobuf_add(&io, 0, "abcdefgh", 8), 8);
  cr_assert(mg_iobuf_resize(&io, 64));
  cr_assert_eq(io.size, 64);
  for (size_t i = 8; i < 64; i++) cr_assert_eq(io.buf[i], 0, "new memory is zeroed: byte %zu", i);
  cr_assert(mg_iobuf_resize(&io, 4), "shrinks below len");
  cr_assert_eq(io.size, 4);
  cr_assert_eq(io.len, 4, "len is trimmed to the new size");
  cr_assert(memcmp(io.buf, "abcd", 4) == 0);
  cr_assert(mg_iobuf_resize(&io, 0));
  cr_assert(io.buf == NULL && io.size == 0 && io.len == 0, "size 0 frees and empties");
  mg_iobuf_free(&io);
}

Test(compat_base, iobuf_del_clamps_to_what_is_there) {
  struct mg_iobuf io = {NULL, 0, 0, 0};
  cr_assert_eq(mg_iobuf_add(&io, 0, "xyz", 3), 3);
  cr_assert_eq(mg_iobuf_del(&io, 0, 2), 2);
  cr_assert_eq(io.len, 1);
  cr_assert_eq(io.buf[0], 'z');
  cr_assert_eq(mg_iobuf_del(&io, 5, 1), 0, "offset past len");
  cr_assert_eq(mg_iobuf_del(&io, 0, 100), 1, "only what is there");
  cr_assert_eq(io.len, 0);
  mg_iobuf_free(&io);
}

// A zeroed connection, as programs and tests use to build a message into c.send
Test(compat_base, printf_and_send_on_a_connection_without_a_manager) {
  struct mg_connection c;
  memset(&c, 0, sizeof(c));
  cr_assert_eq(mg_printf(&c, "%s=%d;", "a", 1), 4);
  cr_assert(mg_send(&c, "xy", 2));
  cr_assert_eq(c.send.len, 6);
  cr_assert(memcmp(c.send.buf, "a=1;xy", 6) == 0);
  cr_assert_null(c.mgr);
  mg_iobuf_free(&c.send);
}

Test(compat_base, pfn_iobuf_keeps_text_nul_terminated) {
  struct mg_iobuf io = {NULL, 0, 0, 0};
  mg_xprintf(mg_pfn_iobuf, &io, "hi %d", 42);
  cr_assert_eq(io.len, 5);
  cr_assert(io.size > io.len);
  cr_assert_str_eq((char *) io.buf, "hi 42");
  mg_xprintf(mg_pfn_iobuf, &io, "%s", "!!");
  cr_assert_str_eq((char *) io.buf, "hi 42!!");
  mg_iobuf_free(&io);
}

// 7. Timers
struct compat_timer_ctx {
  struct mg_mgr *mgr;
  struct mg_timer *self;
  int calls;
};

static void compat_timer_free_self(void *arg) {
  struct compat_timer_ctx *ctx = (struct compat_timer_ctx *) arg;
  ctx->calls++;
  mg_timer_free(&ctx->mgr->timers, ctx->self);
  mg_free(ctx->self);
}

Test(compat_base, fired_one_shot_leaves_the_timer_list) {
  struct mg_mgr mgr;
  int n = 0, r = 0;
  mg_mgr_init(&mgr);
  struct mg_timer *keep = mg_timer_add(&mgr, 100000, MG_TIMER_REPEAT, bump, &r);
  cr_assert_not_null(mg_timer_add(&mgr, 1, MG_TIMER_ONCE, bump, &n));
  uint64_t start = mg_millis();
  while (n == 0 && mg_millis() - start < 2000) mg_mgr_poll(&mgr, 5);
  cr_assert_eq(n, 1, "called once");
  cr_assert_eq(mgr.timers, keep, "the one-shot is gone (freed: ASan would report a leak otherwise)");
  cr_assert_null(keep->next);
  for (int i = 0; i < 3; i++) mg_mgr_poll(&mgr, 1);
  cr_assert_eq(n, 1);
  mg_mgr_free(&mgr);
  cr_assert_null(mgr.timers, "mg_mgr_free empties the list");
}

Test(compat_base, one_shot_of_timer_init_leaves_its_list_unfreed) {
  struct mg_timer *head = NULL, once, rep;
  int n = 0, r = 0;
  mg_timer_init(&head, &rep, 100, MG_TIMER_REPEAT, bump, &r);
  mg_timer_init(&head, &once, 100, MG_TIMER_ONCE, bump, &n);
  mg_timer_poll(&head, 1000);  // Arms both
  mg_timer_poll(&head, 1100);
  cr_assert_eq(n, 1);
  cr_assert_eq(head, &rep, "the spent one-shot is unlinked");
  cr_assert(once.flags & MG_TIMER_CALLED, "its memory is the caller's, untouched");
  mg_timer_poll(&head, 1200);
  cr_assert_eq(n, 1);
  cr_assert_eq(r, 2);
}

Test(compat_base, mgr_free_frees_timers_left_on_the_list) {
  struct mg_mgr mgr;
  int n = 0;
  mg_mgr_init(&mgr);
  cr_assert_not_null(mg_timer_add(&mgr, 1000, MG_TIMER_REPEAT, bump, &n));
  cr_assert_not_null(mg_timer_add(&mgr, 0, MG_TIMER_ONCE | MG_TIMER_RUN_NOW, bump, &n));
  mg_mgr_poll(&mgr, 0);
  mg_mgr_free(&mgr);  // Under ASan a leak fails the run
  cr_assert_eq(n, 1);
}

Test(compat_base, autodelete_one_shot_and_self_freeing_callback) {
  struct mg_mgr mgr;
  int n = 0;
  mg_mgr_init(&mgr);
  cr_assert_not_null(mg_timer_add(&mgr, 0, MG_TIMER_ONCE | MG_TIMER_RUN_NOW | MG_TIMER_AUTODELETE, bump, &n));
  struct compat_timer_ctx ctx = {&mgr, NULL, 0};
  ctx.self = mg_timer_add(&mgr, 0, MG_TIMER_REPEAT | MG_TIMER_RUN_NOW, compat_timer_free_self, &ctx);
  mg_mgr_poll(&mgr, 0);
  mg_mgr_poll(&mgr, 0);
  cr_assert_eq(n, 1);
  cr_assert_eq(ctx.calls, 1);
  cr_assert_null(mgr.timers, "both gone: one by AUTODELETE, one by its own callback");
  mg_mgr_free(&mgr);
}

Test(compat_base, low_level_timer_api) {
  struct mg_timer *head = NULL, t;
  int n = 0;
  mg_timer_init(&head, &t, 100, MG_TIMER_REPEAT, bump, &n);
  mg_timer_poll(&head, 1000);
  mg_timer_poll(&head, 1100);
  mg_timer_poll(&head, 1200);
  cr_assert_eq(n, 2);
  mg_timer_free(&head, &t);
  cr_assert_null(head);
}

// 8. TLS options are declared; without TLS built in, mg_tls_init is a run-time error
static void compat_tls_fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_ERROR) {
    char *seen = (char *) c->fn_data;
    mg_snprintf(seen, 128, "%s", (char *) ev_data);
  }
}

Test(compat_base, tls_init_without_tls_is_a_clear_error) {
  struct mg_mgr mgr;
  char seen[128] = "";
  mg_mgr_init(&mgr);
  struct mg_connection *c = mg_listen(&mgr, "tcp://127.0.0.1:0", compat_tls_fn, seen);
  cr_assert_not_null(c);
  struct mg_tls_opts opts;
  memset(&opts, 0, sizeof(opts));
  opts.ca = mg_str("ca.pem"), opts.cert = mg_str("cert"), opts.key = mg_str("key");
  opts.name = mg_str("localhost"), opts.skip_verification = 1;
  mg_tls_init(c, &opts);
#if MG_ENABLE_TLS
  cr_assert_str_empty(seen);
#else
  cr_assert_str_eq(seen, "TLS is not built in (MG_ENABLE_TLS=0)");
  cr_assert(c->is_closing);
#endif
  mg_mgr_free(&mgr);
}

// 9. The rest of the base API as 7.22 declares it
Test(compat_base, strcmp_returns_minus_one_zero_or_one) {
  cr_assert_eq(mg_strcmp(mg_str("a"), mg_str("z")), -1);
  cr_assert_eq(mg_strcmp(mg_str("z"), mg_str("a")), 1);
  cr_assert_eq(mg_strcmp(mg_str("ab"), mg_str("a")), 1, "a prefix sorts first");
  cr_assert_eq(mg_strcmp(mg_str("a"), mg_str("ab")), -1);
  cr_assert_eq(mg_strcmp(mg_str("ab"), mg_str("ab")), 0);
  cr_assert_eq(mg_strcasecmp(mg_str("ABC"), mg_str("abd")), -1);
  cr_assert_eq(mg_strcasecmp(mg_str("abD"), mg_str("ABC")), 1);
  cr_assert_eq(mg_strcasecmp(mg_str("HeLLo"), mg_str("hello")), 0);
  cr_assert_lt(mg_casecmp("Apple", "banana"), 0);
  cr_assert_eq(mg_casecmp("MiXeD", "mixed"), 0);
}

Test(compat_base, base64_update_and_final_encode_byte_by_byte) {
  char buf[16];
  size_t len = 0;
  const char *in = "abcde";
  for (size_t i = 0; i < 5; i++) len = mg_base64_update((unsigned char) in[i], buf, len);
  len = mg_base64_final(buf, len);
  cr_assert_eq(len, 8);
  cr_assert_str_eq(buf, "YWJjZGU=");
  len = 0;
  for (size_t i = 0; i < 3; i++) len = mg_base64_update((unsigned char) in[i], buf, len);
  cr_assert_eq(mg_base64_final(buf, len), 4);
  cr_assert_str_eq(buf, "YWJj");
  len = mg_base64_update(0xff, buf, 0);
  cr_assert_eq(mg_base64_final(buf, len), 4);
  cr_assert_str_eq(buf, "/w==");
  cr_assert_eq(mg_base64_final(buf, 0), 0);
  cr_assert_str_eq(buf, "");
}

Test(compat_base, print_ip4_ip6_and_mac) {
  char buf[64];
  uint32_t ip4 = MG_IPV4(192, 168, 0, 1);
  mg_snprintf(buf, sizeof(buf), "%M", mg_print_ip4, &ip4);
  cr_assert_str_eq(buf, "192.168.0.1");
  uint8_t ip6[16] = MG_IPV6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
  mg_snprintf(buf, sizeof(buf), "%M", mg_print_ip6, ip6);
  cr_assert_str_eq(buf, "2001:db8::1");
  uint8_t mac[6] = {0x02, 0xab, 0, 0x10, 0xff, 0x7e};
  cr_assert_eq(mg_snprintf(buf, sizeof(buf), "[%M]", mg_print_mac, mac), 19);
  cr_assert_str_eq(buf, "[02:ab:00:10:ff:7e]");
}

struct compat_node {
  int v;
  struct compat_node *next;
};

Test(compat_base, util_macros) {
  uint8_t ip6[16] = MG_IPV6(0xfe80, 0, 0, 0, 0, 0, 0, 0x1234);
  cr_assert(ip6[0] == 0xfe && ip6[1] == 0x80 && ip6[14] == 0x12 && ip6[15] == 0x34);
  uint32_t ip = MG_IPV4(10, 1, 2, 3);
  char buf[32];
  mg_snprintf(buf, sizeof(buf), "%d.%d.%d.%d", MG_IPADDR_PARTS(&ip));
  cr_assert_str_eq(buf, "10.1.2.3");
  cr_assert_eq(MG_U8P(&ip)[0], 10);
  cr_assert_eq(MG_ROUND_UP(10, 8), 16);
  cr_assert_eq(MG_ROUND_UP(16, 8), 16);
  cr_assert_eq(MG_ROUND_DOWN(15, 8), 8);
  cr_assert_eq(MG_ROUND_UP(5, 0), 5, "a of 0 leaves x");
  cr_assert_eq(MG_BIT(31), 0x80000000u);
  uint32_t reg = 0xff;
  MG_SET_BITS(reg, 0x0f, 0x300);
  cr_assert_eq(reg, 0x3f0);
  MG_REG(&reg) = 7;
  cr_assert_eq(reg, 7);
  struct compat_node a = {1, NULL}, b = {2, NULL}, c = {3, NULL}, *head = NULL;
  LIST_ADD_HEAD(struct compat_node, &head, &b);
  LIST_ADD_HEAD(struct compat_node, &head, &a);
  LIST_ADD_TAIL(struct compat_node, &head, &c);
  cr_assert(head == &a && a.next == &b && b.next == &c && c.next == NULL);
  LIST_DELETE(struct compat_node, &head, &b);
  cr_assert(head == &a && a.next == &c);
}

Test(compat_base, bzero_memeq_delayms_random_str) {
  unsigned char secret[8] = {1, 2, 3, 4, 5, 6, 7, 8}, zero[8] = {0};
  mg_bzero(secret, sizeof(secret));
  cr_assert(memcmp(secret, zero, sizeof(zero)) == 0);
  mg_bzero(NULL, 4);  // Safe
  cr_assert(mg_memeq("abc", "abc", 3));
  cr_assert_not(mg_memeq("abc", "abd", 3));
  uint64_t start = mg_millis();
  mg_delayms(20);
  cr_assert_geq(mg_millis() - start, 20, "waits at least that long");
  char s[9];
  cr_assert_eq(mg_random_str(s, sizeof(s)), s);
  cr_assert_eq(strlen(s), 8);
  for (size_t i = 0; i < 8; i++) cr_assert(isalnum((unsigned char) s[i]), "char %zu", i);
}
