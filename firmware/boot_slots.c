// What the host's and the board's boot loaders share: the slot checks' configuration,
// which slot is the installed program, the choice at boot with its fallback, the confirm.
#include "boot.h"

extern const unsigned char mg_ota_pubkey[OTA_PUBKEY_SIZE];  // build/keys/ota_pubkey.c (packer pubkey)

// "1.2.3" or "1.2.3+build": the numbers an image's version is compared with
static struct mg_ota_version boot_slots_version(const char *s) {
  struct mg_ota_version v = {0, 0, 0};
  size_t n = strcspn(s, "+-");
  if (!mg_ota_version_parse(s, n, &v)) MG_ERROR(("version %s is not MAJOR.MINOR.PATCH: taken as 0.0.0", s));
  return v;
}

void boot_cfg_init(struct boot *b, const char *version) {
  struct ota_update_cfg cfg = {&b->slots, FIRMWARE_BOARD, boot_slots_version(version), ota_verify_p256,
                               (void *) mg_ota_pubkey};
  b->cfg = cfg;
}

// True if the slot holds anything that starts like an image (its first sector is not erased)
static bool boot_slots_used(struct boot *b, int slot) {
  uint8_t head[MG_OTA_HEADER_SIZE];
  if (!b->slots.read(&b->slots, slot, 0, head, sizeof(head))) return true;  // Unreadable: not the factory
  for (size_t i = 0; i < sizeof(head); i++) {
    if (head[i] != 0xFF) return true;
  }
  return false;
}

bool boot_is_factory(struct boot *b, int slot) {
  return slot == 0 && !boot_slots_used(b, 0);
}

int boot_choose(struct boot *b, bool (*run)(struct boot *b, int slot, void *arg), void *arg) {
  int slot = ota_boot_select(&b->record);
  if (run(b, slot, arg)) return slot;
  if (slot != b->record.rec.active) {
    MG_ERROR(("slot %d cannot start: rolling back to slot %d", slot, b->record.rec.active));
    ota_boot_rollback(&b->record);
    slot = b->record.rec.active;
    if (run(b, slot, arg)) return slot;
  }
  return -1;
}

void boot_settle(struct boot *b) {
  const struct ota_boot_record *r = &b->record.rec;
  b->factory = boot_is_factory(b, b->running);
  b->trial = r->pending == b->running && !r->confirmed;
  MG_INFO(("running slot %d%s%s", b->running, b->factory ? " (the installed program)" : "",
           b->trial ? ", on trial" : ""));
}

bool boot_confirm(struct boot *b) {
  if (!b->trial) return true;
  if (!ota_boot_confirm(&b->record)) return false;
  b->trial = false;
  MG_INFO(("slot %d confirmed: it is what starts from now on", b->running));
  return true;
}
