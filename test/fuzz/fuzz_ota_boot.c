// Fuzz the boot record: the decoder on any bytes (a record it accepts re-encodes to
// the same bytes), and the state machine from any two copies through any sequence of
// transitions: every state it reaches is valid, saved, and what a reboot reads back.
#include "meerkat.h"
#include "ota/ota_boot.h"

#define CHECK(cond) \
  do {              \
    if (!(cond)) __builtin_trap(); \
  } while (0)

#define FUZZ_SECTOR 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool fuzz_ota_same(const struct ota_boot_record *a, const struct ota_boot_record *b) {
  return a->active == b->active && a->pending == b->pending && a->tries == b->tries &&
         a->confirmed == b->confirmed && a->rolled_back == b->rolled_back && a->seq == b->seq;
}

static void fuzz_ota_decode(const uint8_t *data, size_t size) {
  struct ota_boot_record r;
  uint8_t again[OTA_BOOT_RECORD_SIZE];
  if (!ota_boot_decode(data, size, &r)) return;
  ota_boot_encode(&r, again);
  CHECK(memcmp(again, data, sizeof(again)) == 0);
  CHECK(r.active <= 1 && (r.pending == OTA_SLOT_NONE || r.pending == 1 - r.active));
}

// The committed state is what a reboot finds, and the slot a boot starts is one of two
static void fuzz_ota_check(struct ota_boot *b, struct ota_flash *f) {
  struct ota_boot again;
  ota_boot_load(&again, f);
  if (b->copy >= 0) CHECK(again.copy == b->copy && fuzz_ota_same(&again.rec, &b->rec));
  uint8_t buf[OTA_BOOT_RECORD_SIZE];
  struct ota_boot_record r;
  ota_boot_encode(&b->rec, buf);
  CHECK(ota_boot_decode(buf, sizeof(buf), &r));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mg_log_set(MG_LL_NONE);  // Refused transitions log why; thousands a second
  fuzz_ota_decode(data, size);
  // The record area: up to one sector per copy from the input, the rest erased;
  // each byte after that is one transition
  uint8_t mem[2 * FUZZ_SECTOR];
  size_t head = size < sizeof(mem) ? size : sizeof(mem);
  memset(mem, 0xFF, sizeof(mem));
  memcpy(mem, data, head);
  struct ota_flash f;
  CHECK(ota_flash_ram_init(&f, mem, sizeof(mem), FUZZ_SECTOR));
  struct ota_boot b;
  ota_boot_load(&b, &f);
  fuzz_ota_check(&b, &f);
  for (size_t i = head; i < size; i++) {
    struct ota_boot_record before = b.rec;
    uint8_t op = data[i];
    if (op % 3 == 0) {
      bool ok = ota_boot_set_pending(&b, (uint8_t) (op / 3));
      CHECK(ok == (op / 3 > 0 && before.confirmed));
      if (ok) CHECK(b.rec.pending == 1 - b.rec.active && b.rec.tries == op / 3);
    } else if (op % 3 == 1) {
      int slot = ota_boot_select(&b);
      CHECK(slot == b.rec.active || (slot == b.rec.pending && !b.rec.confirmed));
      if (before.pending != OTA_SLOT_NONE) CHECK(b.rec.seq == before.seq + 1);  // Saved before the start
    } else {
      CHECK(ota_boot_confirm(&b));
      if (!before.confirmed) CHECK(b.rec.active == before.pending && b.rec.pending == OTA_SLOT_NONE);
    }
    fuzz_ota_check(&b, &f);
  }
  return 0;
}
