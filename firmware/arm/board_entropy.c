// mg_board_random for QEMU's mps2-an385, which has no TRNG: a pool hashed from the board's
// counter. Its own file, so a program that has no use for it links none of its SHA-256.
#include "meerkat.h"
#include "board.h"

// Entropy. QEMU's mps2-an385 has no TRNG. The source here is the 25 MHz counter read at
// every call and at every sleep's end, hashed into a SHA-256 pool with a call count: the
// times of frames and requests, as QEMU's host thread delivers them, carry a few bits of
// jitter each. Enough for this emulated board's session tokens and salts against a casual
// peer; NOT enough against one who can time the device closely, and never for keys. A real
// board reads its TRNG here (the STM32's RNG, the nRF's, ...) and returns false if it fails.
static uint8_t board_pool[32];
static uint32_t board_draws;

static void board_stir(void) {
  uint64_t t = board_ticks();
  mg_sha256_ctx ctx;
  board_draws++;
  mg_sha256_init(&ctx);
  mg_sha256_update(&ctx, board_pool, sizeof(board_pool));
  mg_sha256_update(&ctx, (const unsigned char *) &t, sizeof(t));
  mg_sha256_update(&ctx, (const unsigned char *) &board_wake_times, sizeof(board_wake_times));
  mg_sha256_update(&ctx, (const unsigned char *) &board_draws, sizeof(board_draws));
  mg_sha256_final(board_pool, &ctx);
}

bool mg_board_random(void *buf, size_t len) {
  unsigned char *p = (unsigned char *) buf, block[32];
  while (len > 0) {
    size_t n = len < sizeof(block) ? len : sizeof(block);
    board_stir();  // The output is a hash of the pool, never the pool
    mg_sha256(block, board_pool, sizeof(board_pool));
    memcpy(p, block, n);
    p += n, len -= n;
  }
  return true;
}
