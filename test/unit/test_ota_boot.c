// OTA slots and boot record: the RAM backend's NOR rules, the host file backend, the
// record's decoder on bad and boundary input, every transition of the boot state
// machine, rollback after failed trials, and torn record writes at every byte.
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "ota/ota_boot.h"

#define SECTOR 64
#define SLOT (4 * SECTOR)

static uint8_t s_mem[2 * SLOT];     // Image slots
static uint8_t s_rec_mem[2 * SECTOR];  // Boot record: one sector per copy
static struct ota_flash s_flash, s_rec;

static void setup(void) {
  memset(s_mem, 0xFF, sizeof(s_mem));
  memset(s_rec_mem, 0xFF, sizeof(s_rec_mem));
  cr_assert(ota_flash_ram_init(&s_flash, s_mem, sizeof(s_mem), SECTOR));
  cr_assert(ota_flash_ram_init(&s_rec, s_rec_mem, sizeof(s_rec_mem), SECTOR));
}

TestSuite(ota_boot, .init = setup);

// --- RAM backend ---

Test(ota_boot, ram_init_refuses_sector_that_does_not_divide_slot) {
  struct ota_flash f;
  cr_assert_not(ota_flash_ram_init(&f, s_mem, sizeof(s_mem), 0));
  cr_assert_not(ota_flash_ram_init(&f, s_mem, sizeof(s_mem), 3 * SECTOR));
  cr_assert_not(ota_flash_ram_init(&f, s_mem, 3, 1));  // Odd length: two slots unequal
  cr_assert_eq(s_flash.slot_size, SLOT);
  cr_assert_eq(s_flash.sector_size, SECTOR);
}

Test(ota_boot, ram_write_read_round_trip_in_each_slot) {
  uint8_t out[5];
  cr_assert(s_flash.write(&s_flash, 1, 10, "hello", 5));
  cr_assert(s_flash.read(&s_flash, 1, 10, out, 5));
  cr_assert_arr_eq(out, "hello", 5);
  cr_assert_eq(s_mem[SLOT + 10], 'h');  // Slot 1 is the second half
  cr_assert(s_flash.read(&s_flash, 0, 10, out, 5));
  cr_assert_eq(out[0], 0xFF);
}

Test(ota_boot, ram_refuses_write_over_non_erased_bytes) {
  cr_assert(s_flash.write(&s_flash, 0, 0, "ab", 2));
  cr_assert_not(s_flash.write(&s_flash, 0, 1, "xy", 2));  // Byte 1 already written
  cr_assert_eq(s_mem[2], 0xFF, "a refused write changes nothing");
  cr_assert_not(s_flash.write(&s_flash, 0, 0, "a", 1));  // Even the same value: not erased
  cr_assert(s_flash.write(&s_flash, 0, 2, "c", 1));
  cr_assert(s_flash.erase(&s_flash, 0, 0, SECTOR));
  cr_assert(s_flash.write(&s_flash, 0, 0, "xy", 2));
  cr_assert_eq(s_mem[0], 'x');
}

Test(ota_boot, ram_refuses_unaligned_erase_and_out_of_slot_ranges) {
  cr_assert(s_flash.write(&s_flash, 0, SECTOR, "k", 1));
  cr_assert_not(s_flash.erase(&s_flash, 0, 1, SECTOR));
  cr_assert_not(s_flash.erase(&s_flash, 0, 0, SECTOR + 1));
  cr_assert_not(s_flash.erase(&s_flash, 0, 0, 0));
  cr_assert_not(s_flash.erase(&s_flash, 0, SLOT, SECTOR));
  cr_assert_not(s_flash.erase(&s_flash, 2, 0, SECTOR));
  cr_assert_not(s_flash.erase(&s_flash, -1, 0, SECTOR));
  cr_assert_eq(s_mem[SECTOR], 'k', "refused erases change nothing");
  cr_assert(s_flash.erase(&s_flash, 0, SECTOR, 3 * SECTOR));  // Up to the slot's end
  cr_assert_eq(s_mem[SECTOR], 0xFF);
  uint8_t b[2];
  cr_assert_not(s_flash.write(&s_flash, 0, SLOT - 1, "ab", 2));
  cr_assert_not(s_flash.read(&s_flash, 1, SLOT - 1, b, 2));
  cr_assert_not(s_flash.read(&s_flash, 1, (size_t) -1, b, 2));  // Offset + length wraps
  cr_assert(s_flash.read(&s_flash, 1, SLOT - 2, b, 2));
}

// --- host file backend ---

Test(ota_boot, file_backend_erases_writes_reads_in_a_directory) {
  char dir[] = "/tmp/meerkat-ota-XXXXXX", path[64], cmd[96];
  cr_assert_not_null(mkdtemp(dir));
  struct ota_flash f;
  struct ota_flash_file file;
  cr_assert_not(ota_flash_file_init(&f, &file, dir, "slot", SLOT, 3));
  cr_assert(ota_flash_file_init(&f, &file, dir, "slot", SLOT, SECTOR));
  uint8_t out[6];
  cr_assert(f.read(&f, 1, 100, out, 6), "a missing file reads as erased");
  cr_assert_eq(out[0], 0xFF);
  cr_assert(f.write(&f, 1, 100, "flash!", 6));
  cr_assert(f.read(&f, 1, 100, out, 6));
  cr_assert_arr_eq(out, "flash!", 6);
  cr_assert(f.read(&f, 1, 98, out, 2), "bytes before a write are erased");
  cr_assert_eq(out[0], 0xFF);
  cr_assert(f.read(&f, 1, SLOT - 2, out, 2), "bytes past the file's end are erased");
  cr_assert_eq(out[1], 0xFF);
  cr_assert_not(f.write(&f, 1, 104, "xx", 2), "written bytes are not erased");
  cr_assert_not(f.erase(&f, 1, 10, SECTOR));
  cr_assert_not(f.read(&f, 1, SLOT, out, 1));
  cr_assert(f.sync(&f, 1));
  cr_assert(f.erase(&f, 1, SECTOR, SECTOR));
  cr_assert(f.read(&f, 1, 100, out, 6));
  cr_assert_eq(out[0], 0xFF);
  cr_assert(f.write(&f, 1, 100, "again!", 6));
  mg_snprintf(path, sizeof(path), "%s/slot-1.bin", dir);
  cr_assert_eq(access(path, F_OK), 0);
  mg_snprintf(path, sizeof(path), "%s/slot-0.bin", dir);
  cr_assert_neq(access(path, F_OK), 0, "slot 0 was never touched");
  ota_flash_file_close(&f);
  mg_snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  cr_assert_eq(system(cmd), 0);
}

// cachestat(2), Linux 6.5: how many of a file's cached pages in a range are dirty (no
// wrapper in Debian 12's glibc); -1 if the kernel has none
#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif
struct test_cachestat_range {
  uint64_t off, len;
};
struct test_cachestat {
  uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};
static long dirty_pages(int fd, uint64_t off, uint64_t len) {
  struct test_cachestat_range range = {off, len};
  struct test_cachestat cs;
  return syscall(__NR_cachestat, fd, &range, &cs, 0) == 0 ? (long) cs.nr_dirty : -1;
}

// An upload's sync at the end waits for its last piece only: each whole MiB the writes
// complete is on its way to the disk already (dirty no more), the rest waits for the sync
Test(ota_boot, file_backend_starts_each_written_mib_on_its_way_to_the_disk) {
  enum { MIB = 1024 * 1024, PIECE = 34466, LEN = 5 * MIB / 2 };
  char dir[] = "/tmp/meerkat-ota-XXXXXX", cmd[96];
  static uint8_t buf[PIECE];
  cr_assert_not_null(mkdtemp(dir));
  struct ota_flash f;
  struct ota_flash_file file;
  cr_assert(ota_flash_file_init(&f, &file, dir, "slot", 4 * MIB, 4096));
  memset(buf, 0x5A, sizeof(buf));
  for (size_t off = 0; off < LEN; off += PIECE) {
    cr_assert(f.write(&f, 1, off, buf, LEN - off < PIECE ? LEN - off : PIECE));
  }
  long tail = dirty_pages(file.fd[1], 2 * MIB, LEN - 2 * MIB);
  if (tail <= 0) {
    ota_flash_file_close(&f);
    mg_snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
    cr_skip_test("no dirty pages to see under %s (no cachestat, or a file system without writeback)", dir);
  }
  cr_assert_eq(dirty_pages(file.fd[1], 0, 2 * MIB), 0, "the two whole MiB are still dirty");
  cr_assert(f.sync(&f, 1));
  cr_assert_eq(dirty_pages(file.fd[1], 0, LEN), 0);
  ota_flash_file_close(&f);
  mg_snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  cr_assert_eq(system(cmd), 0);
}

Test(ota_boot, file_backend_refuses_a_missing_directory) {
  struct ota_flash f;
  struct ota_flash_file file;
  cr_assert(ota_flash_file_init(&f, &file, "/nonexistent/meerkat", "slot", SLOT, SECTOR));
  cr_assert_not(f.write(&f, 0, 0, "x", 1));
  ota_flash_file_close(&f);
}

// --- the record's decoder ---

static bool record_eq(const struct ota_boot_record *a, const struct ota_boot_record *b) {
  return a->active == b->active && a->pending == b->pending && a->tries == b->tries &&
         a->confirmed == b->confirmed && a->rolled_back == b->rolled_back && a->seq == b->seq;
}

static const struct ota_boot_record s_trial = {1, 0, 2, false, false, 7};

Test(ota_boot, decode_round_trips_and_rejects_short_input) {
  uint8_t buf[OTA_BOOT_RECORD_SIZE + 1];
  struct ota_boot_record r;
  ota_boot_encode(&s_trial, buf);
  buf[OTA_BOOT_RECORD_SIZE] = 0x55;  // Bytes after the record are not its business
  cr_assert(ota_boot_decode(buf, sizeof(buf), &r));
  cr_assert(ota_boot_decode(buf, OTA_BOOT_RECORD_SIZE, &r));
  cr_assert(record_eq(&r, &s_trial));
  for (size_t n = 0; n < OTA_BOOT_RECORD_SIZE; n++) cr_assert_not(ota_boot_decode(buf, n, &r), "length %zu", n);
  memset(buf, 0xFF, sizeof(buf));
  cr_assert_not(ota_boot_decode(buf, sizeof(buf), &r), "erased");
  memset(buf, 0, sizeof(buf));
  cr_assert_not(ota_boot_decode(buf, sizeof(buf), &r), "zeroed");
}

Test(ota_boot, decode_rejects_every_single_bit_flip) {
  uint8_t buf[OTA_BOOT_RECORD_SIZE];
  struct ota_boot_record r;
  ota_boot_encode(&s_trial, buf);
  for (size_t i = 0; i < sizeof(buf) * 8; i++) {
    buf[i / 8] ^= (uint8_t) (1 << (i % 8));
    cr_assert_not(ota_boot_decode(buf, sizeof(buf), &r), "bit %zu", i);
    buf[i / 8] ^= (uint8_t) (1 << (i % 8));
  }
}

static bool encodes_valid(struct ota_boot_record r) {
  uint8_t buf[OTA_BOOT_RECORD_SIZE];
  struct ota_boot_record out;
  ota_boot_encode(&r, buf);  // The CRC is right: only the consistency checks decide
  return ota_boot_decode(buf, sizeof(buf), &out);
}

Test(ota_boot, decode_rejects_inconsistent_records_with_a_good_crc) {
  cr_assert(encodes_valid((struct ota_boot_record){0, OTA_SLOT_NONE, 0, true, false, 0}));
  cr_assert(encodes_valid((struct ota_boot_record){1, OTA_SLOT_NONE, 0, true, true, 0xFFFFFFFF}));
  cr_assert(encodes_valid((struct ota_boot_record){0, 1, 255, true, false, 1}));
  cr_assert_not(encodes_valid((struct ota_boot_record){2, OTA_SLOT_NONE, 0, true, false, 1}), "no slot 2");
  cr_assert_not(encodes_valid((struct ota_boot_record){0, 0, 1, true, false, 1}), "pending = active");
  cr_assert_not(encodes_valid((struct ota_boot_record){0, 2, 1, true, false, 1}), "pending slot 2");
  cr_assert_not(encodes_valid((struct ota_boot_record){0, OTA_SLOT_NONE, 1, true, false, 1}), "tries, no pending");
  cr_assert_not(encodes_valid((struct ota_boot_record){0, OTA_SLOT_NONE, 0, false, false, 1}), "trial of nothing");
  cr_assert_not(encodes_valid((struct ota_boot_record){0, 1, 1, true, true, 1}), "rolled back yet pending");
}

// --- the state machine ---

static struct ota_boot reboot(void) {
  struct ota_boot b;
  ota_boot_load(&b, &s_rec);
  return b;
}

static void assert_state(const struct ota_boot *b, int active, int pending, int tries, bool confirmed,
                         bool rolled_back) {
  cr_assert_eq(b->rec.active, active);
  cr_assert_eq(b->rec.pending, pending);
  cr_assert_eq(b->rec.tries, tries);
  cr_assert_eq(b->rec.confirmed, confirmed);
  cr_assert_eq(b->rec.rolled_back, rolled_back);
}

Test(ota_boot, blank_record_starts_slot_0_confirmed) {
  struct ota_boot b = reboot();
  cr_assert_eq(b.copy, -1);
  assert_state(&b, 0, OTA_SLOT_NONE, 0, true, false);
  cr_assert_eq(ota_boot_select(&b), 0);
  cr_assert(ota_boot_confirm(&b), "nothing on trial");
  cr_assert_eq(b.copy, -1, "nothing changed, nothing written");
}

Test(ota_boot, update_runs_trial_then_confirm_makes_it_active) {
  struct ota_boot b = reboot();
  cr_assert_not(ota_boot_set_pending(&b, 0));
  cr_assert(ota_boot_set_pending(&b, 3));
  b = reboot();  // Saved
  assert_state(&b, 0, 1, 3, true, false);
  cr_assert_eq(ota_boot_select(&b), 1);
  assert_state(&b, 0, 1, 2, false, false);
  b = reboot();  // The countdown was saved before the slot started
  assert_state(&b, 0, 1, 2, false, false);
  cr_assert_not(ota_boot_set_pending(&b, 3), "no new update while a trial runs");
  cr_assert(ota_boot_confirm(&b));
  b = reboot();
  assert_state(&b, 1, OTA_SLOT_NONE, 0, true, false);
  cr_assert_eq(ota_boot_select(&b), 1);
  cr_assert(ota_boot_set_pending(&b, 1), "the next update goes to slot 0");
  assert_state(&b, 1, 0, 1, true, false);
}

Test(ota_boot, trial_that_never_confirms_rolls_back_after_its_tries) {
  struct ota_boot b = reboot();
  cr_assert(ota_boot_set_pending(&b, 3));
  for (int i = 0; i < 3; i++) {
    b = reboot();
    cr_assert_eq(ota_boot_select(&b), 1, "trial boot %d", i + 1);  // ... and it crashes
  }
  b = reboot();
  cr_assert_eq(ota_boot_select(&b), 0, "fourth boot: back to the previous slot");
  assert_state(&b, 0, OTA_SLOT_NONE, 0, true, true);
  b = reboot();
  assert_state(&b, 0, OTA_SLOT_NONE, 0, true, true);
  cr_assert_eq(ota_boot_select(&b), 0);
  cr_assert(ota_boot_set_pending(&b, 1));
  assert_state(&b, 0, 1, 1, true, false);
}

Test(ota_boot, select_that_cannot_save_starts_the_active_slot) {
  struct ota_boot b = reboot();
  cr_assert(ota_boot_set_pending(&b, 2));
  struct ota_flash broken = s_rec;
  broken.slot_size = 0;  // No range fits: every erase and write fails
  b.flash = &broken;
  cr_assert_eq(ota_boot_select(&b), 0, "no countdown saved: no trial");
  assert_state(&b, 0, 1, 2, true, false);
}

Test(ota_boot, rollback_ends_a_trial_started_or_waiting) {
  struct ota_boot b = reboot();
  cr_assert(ota_boot_set_pending(&b, 3));
  b = reboot();
  cr_assert_eq(ota_boot_select(&b), 1);  // Slot 1 on trial
  cr_assert(ota_boot_rollback(&b));
  b = reboot();
  assert_state(&b, 0, OTA_SLOT_NONE, 0, true, true);
  cr_assert_eq(ota_boot_select(&b), 0, "the trial's slot is not started again");
  cr_assert(ota_boot_set_pending(&b, 1));
  b = reboot();
  cr_assert_eq(ota_boot_select(&b), 1);
  cr_assert(ota_boot_confirm(&b));
  cr_assert(ota_boot_rollback(&b), "nothing on trial: nothing to do");
  b = reboot();
  assert_state(&b, 1, OTA_SLOT_NONE, 0, true, false);
  cr_assert_eq(ota_boot_select(&b), 1);
  cr_assert(ota_boot_set_pending(&b, 2));
  cr_assert(ota_boot_rollback(&b), "an update waiting for its first boot is dropped");
  b = reboot();
  assert_state(&b, 1, OTA_SLOT_NONE, 0, true, false);
}

// A backend that programs 32-byte words only, as an STM32H7 does
static bool (*s_ram_write)(struct ota_flash *, int, size_t, const void *, size_t);
static bool word_write(struct ota_flash *f, int slot, size_t off, const void *buf, size_t len) {
  if (off % 32 != 0 || len % 32 != 0) return false;
  return s_ram_write(f, slot, off, buf, len);
}

Test(ota_boot, record_is_saved_in_whole_program_units) {
  s_ram_write = s_rec.write;
  s_rec.write = word_write;
  s_rec.write_size = 32;
  struct ota_boot b = reboot();
  cr_assert(ota_boot_set_pending(&b, 2));
  b = reboot();
  assert_state(&b, 0, 1, 2, true, false);
}

// The record area's bytes after a save
static uint8_t s_image[2][2 * SECTOR];

Test(ota_boot, seq_wraps_and_the_newer_copy_still_wins) {
  uint8_t buf[OTA_BOOT_RECORD_SIZE];
  struct ota_boot_record old = {0, OTA_SLOT_NONE, 0, true, false, 0xFFFFFFFF}, cur = old;
  cur.seq = 0;
  cur.active = 1;
  ota_boot_encode(&old, buf);
  memcpy(s_rec_mem, buf, sizeof(buf));
  ota_boot_encode(&cur, buf);
  memcpy(s_rec_mem + SECTOR, buf, sizeof(buf));
  struct ota_boot b = reboot();
  cr_assert_eq(b.rec.active, 1);
  cr_assert_eq(b.copy, 1);
}

// A save interrupted at every point: the erase of the copy it writes half done, the
// write stopped after each byte, and each byte half programmed (flash only clears bits)
Test(ota_boot, torn_record_write_leaves_the_committed_state) {
  struct ota_boot b = reboot();
  cr_assert(ota_boot_set_pending(&b, 2));
  cr_assert_eq(ota_boot_select(&b), 1);  // Committed: trial, 1 try left
  struct ota_boot_record committed = b.rec;
  memcpy(s_image[0], s_rec_mem, sizeof(s_rec_mem));
  cr_assert(ota_boot_confirm(&b));
  struct ota_boot_record next = b.rec;
  memcpy(s_image[1], s_rec_mem, sizeof(s_rec_mem));
  int target = b.copy;
  cr_assert_neq(memcmp(s_image[0] + target * SECTOR, s_image[1] + target * SECTOR, SECTOR), 0);

  for (size_t k = 0; k <= SECTOR; k++) {
    for (int mode = 0; mode < 3; mode++) {
      memcpy(s_rec_mem, s_image[1], sizeof(s_rec_mem));
      uint8_t *copy = s_rec_mem + target * SECTOR, *before = s_image[0] + target * SECTOR;
      if (mode == 0) {  // Erase stopped: the first k bytes erased, the old copy's after
        memcpy(copy, before, SECTOR);
        memset(copy, 0xFF, k);
      } else if (k < SECTOR) {  // Write stopped at byte k: mode 1 not begun, mode 2 half
        memset(copy + k, 0xFF, SECTOR - k);
        if (mode == 2) copy[k] = (uint8_t) (s_image[1][target * SECTOR + k] | 0x5A);
      }
      b = reboot();
      bool whole = (mode != 0 && k >= OTA_BOOT_RECORD_SIZE) || (mode == 2 && k == OTA_BOOT_RECORD_SIZE - 1 &&
                                                               (s_image[1][target * SECTOR + k] | 0x5A) ==
                                                                   s_image[1][target * SECTOR + k]);
      const struct ota_boot_record *want = whole ? &next : &committed;
      cr_assert(record_eq(&b.rec, want), "k %zu mode %d: %s state", k, mode,
                   whole ? "new" : "committed");
    }
  }
}

// Any one copy damaged at any byte: the state is one that was committed, never newer
Test(ota_boot, corrupt_copy_yields_a_committed_state) {
  struct ota_boot b = reboot();
  cr_assert(ota_boot_set_pending(&b, 2));
  struct ota_boot_record first = b.rec;
  cr_assert_eq(ota_boot_select(&b), 1);
  struct ota_boot_record second = b.rec;
  memcpy(s_image[0], s_rec_mem, sizeof(s_rec_mem));
  for (int copy = 0; copy < 2; copy++) {
    for (size_t i = 0; i < OTA_BOOT_RECORD_SIZE; i++) {
      memcpy(s_rec_mem, s_image[0], sizeof(s_rec_mem));
      s_rec_mem[copy * SECTOR + i] ^= 0x01;
      b = reboot();
      bool is_first = record_eq(&b.rec, &first);
      bool is_second = record_eq(&b.rec, &second);
      cr_assert(is_first || is_second, "copy %d byte %zu", copy, i);
      if (is_first) cr_assert_eq(ota_boot_select(&b), 1, "the older state still boots the trial");
    }
  }
}
