// The flash seam of OTA: two slots of equal size, erased by whole sectors and
// written only where erased, as NOR flash is; a backend is this struct of functions.
#ifndef OTA_FLASH_H
#define OTA_FLASH_H
#include "meerkat.h"

// A slot is 0 or 1. Every function logs why and returns false on failure: a range
// outside the slot, an erase not on sector boundaries, a write over bytes that are
// not erased (0xFF), or the medium's own error. Erased bytes read as 0xFF.
struct ota_flash {
  bool (*erase)(struct ota_flash *f, int slot, size_t off, size_t len);  // off, len: whole sectors
  bool (*write)(struct ota_flash *f, int slot, size_t off, const void *buf, size_t len);
  bool (*read)(struct ota_flash *f, int slot, size_t off, void *buf, size_t len);
  // Optional (NULL where a write is durable when it returns, as on flash): make the
  // slot's writes survive a power loss, before a boot record points at them
  bool (*sync)(struct ota_flash *f, int slot);
  size_t sector_size, slot_size;
  void *ctx;  // The backend's
  // The program unit (0 or 1: any byte): a write's off and len are multiples of it,
  // as flash with ECC programs whole words (32 bytes on an STM32H7)
  size_t write_size;
};

// The checks every backend makes before touching the medium (ota_flash.c):
// slot 0 or 1, the range inside the slot, and for an erase, whole sectors
bool ota_flash_range_ok(const struct ota_flash *f, int slot, size_t off, size_t len, bool is_erase);

// RAM backend (ota_flash_ram.c) over buf, which holds slot 0 then slot 1, each
// len / 2 bytes; its contents are kept (a reboot of the QEMU board, a test's power
// loss). False if sector_size is 0 or does not divide a slot.
bool ota_flash_ram_init(struct ota_flash *f, uint8_t *buf, size_t len, size_t sector_size);

#if MG_ENABLE_POSIX_FS
// File backend (ota_flash_file.c): slot N is the file DIR/NAME-N.bin, and a missing
// file or bytes past its end read as erased. dir and name must outlive f; the files
// stay open from first use until ota_flash_file_close.
struct ota_flash_file {
  const char *dir, *name;
  int fd[2];
};
bool ota_flash_file_init(struct ota_flash *f, struct ota_flash_file *file, const char *dir, const char *name,
                         size_t slot_size, size_t sector_size);
void ota_flash_file_close(struct ota_flash *f);
#endif

// STM32H7 dual-bank embedded flash (ota_flash_stm32h7.c; RM0433, e.g. an STM32H743):
// two banks of 128 KiB sectors, programmed in 32-byte flash words with their ECC
// (write_size 32). Slot 0 is the bank mapped at 0x08000000, where the running image
// always is; slot 1 the bank at 0x08100000. With SWAP_BANK clear they are bank 1 and
// bank 2; with it set the banks and their register sets trade places (RM0433's bank and
// register swapping), so slot 0 is bank 2 and slot 1 bank 1, and the registers at offset
// 0x000 still drive slot 0: the swap changes only which bank a log line names.
// ota_flash_stm32h7_boot_slot(hw, 1) makes slot 1 the one at 0x08000000 (slot 0) after
// the next reset. The program runs from slot 0: only code running from RAM may change it.
struct ota_flash_stm32h7 {
  volatile uint32_t *regs;  // The flash interface's register block
  uint8_t *base[2];         // Where slot 0 and slot 1 are mapped (32-byte aligned)
  int swapped;              // SWAP_BANK in effect at init: slot 0 is bank 2
  uint32_t psize;           // Program/erase parallelism (PSIZE: 0 x8, 1 x16, 2 x32, 3 x64)
  unsigned long max_polls;  // Status reads before a wait gives up (a hung controller)
  // Optional, called before each status read while the controller works: kick a
  // watchdog (a sector erase takes seconds); a host test runs its simulated controller
  void (*poll)(struct ota_flash_stm32h7 *hw);
  // Optional: drop the data cache's copy of flash an erase or write changed, where the
  // cache covers flash (e.g. SCB_InvalidateDCache_by_Addr); addr and len are 32-byte aligned
  void (*invalidate)(void *addr, size_t len);
};
#define OTA_STM32H7_REGS ((volatile uint32_t *) 0x52002000UL)
#define OTA_STM32H7_SLOT0 ((uint8_t *) 0x08000000UL)
#define OTA_STM32H7_SLOT1 ((uint8_t *) 0x08100000UL)
#define OTA_STM32H7_BANK_SIZE (1024UL * 1024UL)  // STM32H743xI: 8 sectors
#define OTA_STM32H7_SECTOR_SIZE (128UL * 1024UL)
#define OTA_STM32H7_WORD_SIZE 32
#define OTA_STM32H7_PSIZE_X32 2  // The default; RM0433 says which the board's supply allows
// A 128 KiB sector erase takes up to about 4 s; a status read costs a 480 MHz core more
// than 4 cycles, so 10^9 reads outlast it
#define OTA_STM32H7_MAX_POLLS 1000000000UL

// Fills hw with the register block and the two slots' addresses (the defaults above on a
// real chip) and reads SWAP_BANK; psize, max_polls, poll and invalidate may be changed
// after. bank_size: whole 128 KiB sectors, at most 8. False with a log line if not, or if
// a base is not 32-byte aligned.
bool ota_flash_stm32h7_init(struct ota_flash *f, struct ota_flash_stm32h7 *hw, volatile uint32_t *regs,
                            uint8_t *slot0, uint8_t *slot1, size_t bank_size);
// Programs SWAP_BANK_OPT so that after the next reset slot N of now is mapped at
// 0x08000000 (1: swap, 0: keep or cancel a swap not yet in effect); the caller resets
bool ota_flash_stm32h7_boot_slot(struct ota_flash_stm32h7 *hw, int slot);

#endif  // OTA_FLASH_H
