// The boot record: which slot runs, which one is on trial and how many boots it has
// left; two copies with a sequence number and CRC, so a torn write loses nothing committed.
#ifndef OTA_BOOT_H
#define OTA_BOOT_H
#include "ota/ota_flash.h"

#define OTA_SLOT_NONE 0xFF
#define OTA_BOOT_RECORD_SIZE 20

// The state machine (one owner: ota_boot.c):
//   confirmed, no pending --set_pending(N)--> pending with N tries, not yet started
//   pending, tries > 0   --select: tries-1 saved, then start pending--> trial (confirmed 0)
//   trial                --confirm--> active = pending, confirmed, no pending
//   pending, tries == 0  --select--> no pending, confirmed, rolled_back: start active
//   trial or pending     --rollback--> no pending, confirmed (rolled_back if it had started)
// active is always the last confirmed slot, so a failed trial falls back to it.
struct ota_boot_record {
  uint8_t active;    // 0 or 1: the confirmed slot
  uint8_t pending;   // The other slot, or OTA_SLOT_NONE
  uint8_t tries;     // Trial boots left for pending
  bool confirmed;    // False while pending has been started and not confirmed
  bool rolled_back;  // The last trial ran out of tries (cleared by the next set_pending)
  uint32_t seq;      // Each save adds 1; of two valid copies the newer wins
};

// Pure: the record in buf (len >= OTA_BOOT_RECORD_SIZE) if it is a whole, consistent
// one with a correct CRC; false for anything else (erased, torn, foreign bytes)
bool ota_boot_decode(const uint8_t *buf, size_t len, struct ota_boot_record *r);
void ota_boot_encode(const struct ota_boot_record *r, uint8_t out[OTA_BOOT_RECORD_SIZE]);

struct ota_boot {
  struct ota_flash *flash;     // Copy N in the first sector of slot N of this (small) flash
  struct ota_boot_record rec;  // The committed state
  int copy;                    // The copy holding rec, or -1 (none valid: never saved)
};

// Reads both copies; with neither valid, starts from the factory state (slot 0
// confirmed, nothing pending), which is written with the first change
void ota_boot_load(struct ota_boot *b, struct ota_flash *flash);
// Puts the slot that is not active on trial for tries (1-255) boots; false if a trial
// is running or the record could not be saved. The caller syncs that slot first.
bool ota_boot_set_pending(struct ota_boot *b, uint8_t tries);
// At boot: the slot to start. A trial's tries are counted down and saved before its
// slot is returned; if that save fails the active slot is started instead
int ota_boot_select(struct ota_boot *b);
// The running trial is healthy: it becomes the active slot. True if nothing was on trial
bool ota_boot_confirm(struct ota_boot *b);
// An admin's rollback of a trial, at once: the trial (started or not) ends and its slot
// is not started again; the next boot starts the active slot. True if nothing was on
// trial. (Going back from a confirmed slot is an update like any other: set_pending,
// so the older firmware too must confirm itself, and a failure falls back.)
bool ota_boot_rollback(struct ota_boot *b);

#endif  // OTA_BOOT_H
