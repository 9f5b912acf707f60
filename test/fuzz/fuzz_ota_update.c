// Fuzz the OTA updater: any bytes streamed in any split, with a 1- or 32-byte program
// unit, never pass the checks (no valid signature can arise), stay inside the slot and
// keep the counters in order; and recovery from any slot contents, then going on.
#include "meerkat.h"
#include "ota/ota_update.h"

#define CHECK(cond) \
  do {              \
    if (!(cond)) __builtin_trap(); \
  } while (0)

#define FUZZ_SECTOR 256
#define FUZZ_SLOT (32 * FUZZ_SECTOR)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t s_mem[2 * FUZZ_SLOT];

// No key signs what a fuzzer makes: a check that says yes would be the bug
static enum ota_verify_result fuzz_verify(const uint8_t digest[32], const uint8_t sig[MG_OTA_SIG_SIZE], void *arg) {
  (void) digest, (void) sig, (void) arg;
  return OTA_VERIFY_BAD;
}

static void fuzz_check_state(const struct ota_update *u, size_t unit) {
  CHECK(u->state != OTA_UPDATE_VERIFIED);
  CHECK(u->staged < unit || unit == 1);
  CHECK(u->total <= FUZZ_SLOT);
  if (u->state == OTA_UPDATE_RECEIVING && u->received > MG_OTA_HEADER_SIZE) CHECK(u->received <= u->total);
  if (u->state == OTA_UPDATE_FAILED) CHECK(u->error[0] != '\0' && u->status >= 400);
}

// Layout: [flags] [piece size] rest. flags bit 0: 32-byte unit; bit 1: announce the size;
// bit 2: recover from the slot holding rest instead of streaming it
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2) return 0;
  uint8_t flags = data[0];
  size_t piece = (size_t) data[1] + 1, unit = (flags & 1) ? 32 : 1;
  data += 2, size -= 2;
  struct ota_flash flash;
  memset(s_mem, 0xFF, sizeof(s_mem));
  if (!ota_flash_ram_init(&flash, s_mem, sizeof(s_mem), FUZZ_SECTOR)) __builtin_trap();
  flash.write_size = unit;
  struct ota_update_cfg cfg = {&flash, "host", {1, 0, 0}, fuzz_verify, NULL};
  struct ota_update u;
  if (flags & 4) {
    memcpy(s_mem + FUZZ_SLOT, data, size < FUZZ_SLOT ? size : FUZZ_SLOT);
    if (ota_update_recover(&u, &cfg, 1)) {
      CHECK(u.received >= MG_OTA_HEADER_SIZE && u.received <= u.total && (u.received % unit == 0 || u.received == u.total));
      uint8_t fill[64];
      memset(fill, 0x5a, sizeof(fill));
      while (u.state == OTA_UPDATE_RECEIVING && u.received < u.total) {
        size_t n = u.total - u.received < sizeof(fill) ? u.total - u.received : sizeof(fill);
        ota_update_write(&u, fill, n);
        fuzz_check_state(&u, unit);
      }
      CHECK(!ota_update_end(&u));
    }
    struct mg_ota_header h;
    char why[128];
    CHECK(!ota_slot_verify(&cfg, 1, &h, why, sizeof(why)));
    return 0;
  }
  if (!ota_update_begin(&u, &cfg, 1, (flags & 2) ? (uint32_t) size : 0, (flags & 8) != 0)) return 0;
  for (size_t at = 0; at < size && u.state == OTA_UPDATE_RECEIVING; at += piece) {
    size_t n = size - at < piece ? size - at : piece;
    bool ok = ota_update_write(&u, data + at, n);
    CHECK(ok == (u.state == OTA_UPDATE_RECEIVING));
    fuzz_check_state(&u, unit);
  }
  CHECK(!ota_update_end(&u));
  fuzz_check_state(&u, unit);
  for (size_t i = 0; i < FUZZ_SLOT; i++) CHECK(s_mem[i] == 0xFF);  // Slot 0 is never touched
  return 0;
}
