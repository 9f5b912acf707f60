// The flash seam over the STM32H7's dual-bank embedded flash, from RM0433's register
// description: sector erase, 32-byte flash words with ECC, reads from the memory map.
#include "ota/ota_flash.h"
#include "ota/ota_flash_stm32h7.h"

// One erase, write or read, as its log lines name it
struct h7_op {
  struct ota_flash_stm32h7 *hw;
  const char *what;
  int slot;
  size_t off;
};

static const struct {
  uint32_t flag;
  const char *says;
} s_h7_errors[] = {
    {OTA_H7_SR_WRPERR, "write protection error: the sector is write-protected in the option bytes (WPSN); "
                       "remove the protection, e.g. with STM32CubeProgrammer"},
    {OTA_H7_SR_PGSERR, "programming sequence error: the controller got a write or erase it was not set up for"},
    {OTA_H7_SR_STRBERR, "strobe error: a flash word was written again before it was programmed"},
    {OTA_H7_SR_INCERR, "inconsistency error: a write crossed into another flash word before finishing one"},
    {OTA_H7_SR_OPERR, "operation error: the flash failed to write or erase (supply voltage, worn sector); retry"},
    {OTA_H7_SR_RDPERR, "read protection error: the address is in a PCROP-protected area"},
    {OTA_H7_SR_RDSERR, "secure error: the address is in a secure-only area"},
    {OTA_H7_SR_SNECCERR, "single ECC error corrected: the data is right, but the sector is wearing out"},
    {OTA_H7_SR_DBECCERR, "double ECC error: the data is corrupt (a write cut short?); erase and write it again"},
    {OTA_H7_SR_CRCRDERR, "CRC read error: the CRC unit read a protected area"},
};

static volatile uint32_t *h7_regs(const struct h7_op *op) {
  return op->hw->regs + op->slot * OTA_H7_BANK_STRIDE;
}

// The physical bank behind the slot, for a person reading the log
static int h7_bank(const struct h7_op *op) {
  return (op->slot ^ op->hw->swapped) + 1;
}

static void h7_log_error(const struct h7_op *op, const char *says) {
  MG_ERROR(("flash %s of slot %d (bank %d) at %lu (sector %lu): %s", op->what, op->slot, h7_bank(op),
            (unsigned long) op->off, (unsigned long) (op->off / OTA_STM32H7_SECTOR_SIZE), says));
}

// Stores to flash must reach the controller before its status is read
static void h7_barrier(void) {
#if defined(__arm__)
  __asm__ volatile("dsb" ::: "memory");
#elif defined(__GNUC__)
  __asm__ volatile("" ::: "memory");
#endif
}

// Bounded: a controller that never finishes is an error, not a hang
static bool h7_wait_clear(struct ota_flash_stm32h7 *hw, volatile uint32_t *reg, uint32_t mask) {
  for (unsigned long i = 0; i < hw->max_polls; i++) {
    if (hw->poll != NULL) hw->poll(hw);
    if ((*reg & mask) == 0) return true;
  }
  return false;
}

static bool h7_wait_idle(const struct h7_op *op) {
  volatile uint32_t *sr = h7_regs(op) + OTA_H7_SR;
  if (h7_wait_clear(op->hw, sr, OTA_H7_SR_QW | OTA_H7_SR_BSY)) return true;
  char says[96];
  mg_snprintf(says, sizeof(says), "still busy after %lu status reads (status %#x); reset the board",
              op->hw->max_polls, (unsigned) *sr);
  h7_log_error(op, says);
  return false;
}

// Logs and clears the bank's error flags; false if one is more than a corrected bit
static bool h7_check(const struct h7_op *op) {
  volatile uint32_t *r = h7_regs(op);
  uint32_t sr = r[OTA_H7_SR] & OTA_H7_SR_ERRORS;
  for (size_t i = 0; i < sizeof(s_h7_errors) / sizeof(s_h7_errors[0]); i++) {
    if (sr & s_h7_errors[i].flag) h7_log_error(op, s_h7_errors[i].says);
  }
  r[OTA_H7_CCR] = sr;
  return (sr & ~OTA_H7_SR_SNECCERR) == 0;
}

// Waits out a queued operation, clears flags an earlier one left (a sequence error would
// refuse this one) and unlocks the bank's CR: once, as a second key pair locks it until reset
static bool h7_begin(const struct h7_op *op) {
  volatile uint32_t *r = h7_regs(op);
  if (!h7_wait_idle(op)) return false;
  uint32_t stale = r[OTA_H7_SR] & OTA_H7_SR_ERRORS;
  if (stale != 0) {
    MG_DEBUG(("flash bank %d: clearing flags %#x left by an earlier operation", h7_bank(op), (unsigned) stale));
  }
  r[OTA_H7_CCR] = stale;
  if (r[OTA_H7_CR] & OTA_H7_CR_LOCK) {
    r[OTA_H7_KEYR] = OTA_H7_KEY1;
    r[OTA_H7_KEYR] = OTA_H7_KEY2;
    if (!h7_wait_clear(op->hw, r + OTA_H7_CR, OTA_H7_CR_LOCK)) {
      h7_log_error(op, "the control register stays locked (a wrong key sequence locks it until reset)");
      return false;
    }
  }
  // Clearing PG also empties a write buffer that an interrupted write left half full
  r[OTA_H7_CR] &= ~(OTA_H7_CR_PG | OTA_H7_CR_SER | OTA_H7_CR_SNB_MASK | OTA_H7_CR_PSIZE_MASK);
  r[OTA_H7_CR] |= (op->hw->psize << OTA_H7_CR_PSIZE_SHIFT) & OTA_H7_CR_PSIZE_MASK;
  return true;
}

static void h7_end(const struct h7_op *op, void *changed, size_t len) {
  volatile uint32_t *r = h7_regs(op);
  r[OTA_H7_CR] &= ~(OTA_H7_CR_PG | OTA_H7_CR_SER);
  r[OTA_H7_CR] |= OTA_H7_CR_LOCK;
  if (op->hw->invalidate != NULL && len > 0) op->hw->invalidate(changed, len);
}

static bool h7_erase_sector(struct h7_op *op, size_t sector_size) {
  volatile uint32_t *r = h7_regs(op);
  if (!h7_begin(op)) return false;
  uint32_t snb = (uint32_t) (op->off / sector_size) << OTA_H7_CR_SNB_SHIFT;
  r[OTA_H7_CR] |= OTA_H7_CR_SER | (snb & OTA_H7_CR_SNB_MASK);
  r[OTA_H7_CR] |= OTA_H7_CR_START;
  bool ok = h7_wait_idle(op) && h7_check(op);
  h7_end(op, op->hw->base[op->slot] + op->off, sector_size);
  return ok;
}

static bool h7_erase(struct ota_flash *f, int slot, size_t off, size_t len) {
  if (!ota_flash_range_ok(f, slot, off, len, true)) return false;
  struct h7_op op = {(struct ota_flash_stm32h7 *) f->ctx, "erase", slot, off};
  for (; op.off < off + len; op.off += f->sector_size) {
    if (!h7_erase_sector(&op, f->sector_size)) return false;
  }
  return true;
}

// As on NOR flash, only erased bytes take a write: checked for the whole range first
static bool h7_all_erased(const uint8_t *p, size_t len, int slot, size_t off) {
  for (size_t i = 0; i < len; i++) {
    if (p[i] == 0xFF) continue;
    MG_ERROR(("flash write at %lu of slot %d: byte %lu is not erased (erase its sector first)", (unsigned long) off,
              slot, (unsigned long) (off + i)));
    return false;
  }
  return true;
}

// Eight 32-bit stores fill the write buffer, and the controller programs the word with
// its ECC. A word of all 0xFF is left alone: erased, it can still take a later write
static bool h7_program_word(const struct h7_op *op, volatile uint32_t *dst, const uint8_t *src) {
  uint32_t w[OTA_STM32H7_WORD_SIZE / 4];
  memcpy(w, src, sizeof(w));
  uint32_t all = 0xFFFFFFFFu;
  for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) all &= w[i];
  if (all == 0xFFFFFFFFu) return true;
  for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) dst[i] = w[i];
  h7_barrier();
  if (!h7_wait_idle(op)) return false;
  if (h7_regs(op)[OTA_H7_SR] & OTA_H7_SR_WBNE) {
    h7_log_error(op, "the write buffer still waits for data after a whole flash word");
    return false;
  }
  return h7_check(op);
}

static bool h7_write(struct ota_flash *f, int slot, size_t off, const void *buf, size_t len) {
  if (!ota_flash_range_ok(f, slot, off, len, false)) return false;
  if (off % OTA_STM32H7_WORD_SIZE != 0 || len % OTA_STM32H7_WORD_SIZE != 0) {
    MG_ERROR(("flash write of %lu bytes at %lu of slot %d: not whole 32-byte flash words (the STM32H7 programs "
              "32 bytes with their ECC at once)",
              (unsigned long) len, (unsigned long) off, slot));
    return false;
  }
  struct h7_op op = {(struct ota_flash_stm32h7 *) f->ctx, "write", slot, off};
  uint8_t *dst = op.hw->base[slot] + off;
  if (len == 0) return true;
  if (!h7_all_erased(dst, len, slot, off) || !h7_begin(&op)) return false;
  h7_regs(&op)[OTA_H7_CR] |= OTA_H7_CR_PG;
  bool ok = true;
  for (size_t i = 0; ok && i < len; i += OTA_STM32H7_WORD_SIZE) {
    op.off = off + i;
    ok = h7_program_word(&op, (volatile uint32_t *) (dst + i), (const uint8_t *) buf + i);
  }
  h7_end(&op, dst, len);
  return ok;
}

// An ECC error the read met shows in the bank's flags
static bool h7_read(struct ota_flash *f, int slot, size_t off, void *buf, size_t len) {
  if (!ota_flash_range_ok(f, slot, off, len, false)) return false;
  struct h7_op op = {(struct ota_flash_stm32h7 *) f->ctx, "read", slot, off};
  memcpy(buf, op.hw->base[slot] + off, len);
  return h7_check(&op);
}

bool ota_flash_stm32h7_init(struct ota_flash *f, struct ota_flash_stm32h7 *hw, volatile uint32_t *regs,
                            uint8_t *slot0, uint8_t *slot1, size_t bank_size) {
  const size_t sector = OTA_STM32H7_SECTOR_SIZE, snb_max = (OTA_H7_CR_SNB_MASK >> OTA_H7_CR_SNB_SHIFT) + 1;
  if (bank_size == 0 || bank_size % sector != 0 || bank_size / sector > snb_max) {
    MG_ERROR(("STM32H7 flash banks of %lu bytes: not whole %lu-byte sectors, 1 to %lu of them",
              (unsigned long) bank_size, (unsigned long) sector, (unsigned long) snb_max));
    return false;
  }
  if ((uintptr_t) slot0 % OTA_STM32H7_WORD_SIZE != 0 || (uintptr_t) slot1 % OTA_STM32H7_WORD_SIZE != 0) {
    MG_ERROR(("STM32H7 flash banks at %p and %p: not 32-byte aligned", (void *) slot0, (void *) slot1));
    return false;
  }
  hw->regs = regs;
  hw->base[0] = slot0, hw->base[1] = slot1;
  // OPTCR's SWAP_BANK is the mapping in effect; OPTSR_CUR's changes before the reset does
  hw->swapped = (regs[OTA_H7_OPTCR] & OTA_H7_OPTCR_SWAP_BANK) ? 1 : 0;
  hw->psize = OTA_STM32H7_PSIZE_X32;
  hw->max_polls = OTA_STM32H7_MAX_POLLS;
  hw->poll = NULL;
  hw->invalidate = NULL;
  struct ota_flash h7 = {h7_erase, h7_write, h7_read, NULL, sector, bank_size, hw, OTA_STM32H7_WORD_SIZE};
  *f = h7;
  return true;
}

static void h7_log_swap(int slot, const char *says) {
  MG_ERROR(("flash bank swap to boot slot %d: %s", slot, says));
}

static bool h7_options_unlock(struct ota_flash_stm32h7 *hw, int slot) {
  volatile uint32_t *r = hw->regs;
  if (!(r[OTA_H7_OPTCR] & OTA_H7_OPTCR_OPTLOCK)) return true;
  r[OTA_H7_OPTKEYR] = OTA_H7_OPTKEY1;
  r[OTA_H7_OPTKEYR] = OTA_H7_OPTKEY2;
  if (h7_wait_clear(hw, r + OTA_H7_OPTCR, OTA_H7_OPTCR_OPTLOCK)) return true;
  h7_log_swap(slot, "the option control register stays locked (a wrong key sequence locks it until reset)");
  return false;
}

// Programs SWAP_BANK_OPT and waits for the option bytes to take it
static bool h7_options_program(struct ota_flash_stm32h7 *hw, int slot, uint32_t want) {
  volatile uint32_t *r = hw->regs;
  r[OTA_H7_OPTCCR] = OTA_H7_OPTCCR_CLR_OPTCHANGEERR;
  r[OTA_H7_OPTSR_PRG] = (r[OTA_H7_OPTSR_PRG] & ~OTA_H7_OPTSR_SWAP_BANK_OPT) | want;
  r[OTA_H7_OPTCR] |= OTA_H7_OPTCR_OPTSTART;
  if (!h7_wait_clear(hw, r + OTA_H7_OPTSR_CUR, OTA_H7_OPTSR_OPT_BUSY)) {
    h7_log_swap(slot, "the option bytes are still busy; reset the board");
  } else if (r[OTA_H7_OPTSR_CUR] & OTA_H7_OPTSR_OPTCHANGEERR) {
    h7_log_swap(slot, "option byte change error: SWAP_BANK was not programmed; retry");
  } else if ((r[OTA_H7_OPTSR_CUR] & OTA_H7_OPTSR_SWAP_BANK_OPT) != want) {
    h7_log_swap(slot, "SWAP_BANK_OPT reads back unchanged after programming");
  } else {
    return true;
  }
  return false;
}

// SWAP_BANK_OPT is set from the mapping in effect, so asking twice asks for the same,
// and slot 0 cancels a swap that no reset has made yet
bool ota_flash_stm32h7_boot_slot(struct ota_flash_stm32h7 *hw, int slot) {
  if (slot != 0 && slot != 1) {
    h7_log_swap(slot, "there are slots 0 and 1 only");
    return false;
  }
  uint32_t want = (hw->swapped ^ slot) != 0 ? OTA_H7_OPTSR_SWAP_BANK_OPT : 0;
  if (!h7_wait_clear(hw, hw->regs + OTA_H7_OPTSR_CUR, OTA_H7_OPTSR_OPT_BUSY)) {
    h7_log_swap(slot, "the option bytes are still busy; reset the board");
    return false;
  }
  bool ok = h7_options_unlock(hw, slot) && h7_options_program(hw, slot, want);
  hw->regs[OTA_H7_OPTCR] |= OTA_H7_OPTCR_OPTLOCK;
  return ok;
}
