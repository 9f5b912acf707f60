// The STM32H7 flash backend against a simulated controller: sector erase, 32-byte flash
// words, every error flag's log line, hung and locked controllers, bank swap, and the
// flash seam's contract, which the RAM backend passes too.
#include <criterion/criterion.h>
#include <string.h>
#include "ota/ota_flash.h"
#include "ota/ota_flash_stm32h7.h"

#define BANK OTA_STM32H7_BANK_SIZE
#define SECTOR OTA_STM32H7_SECTOR_SIZE
#define WORD OTA_STM32H7_WORD_SIZE

// The chip: a register block and two physical banks (0: bank 1, 1: bank 2). The
// controller runs in sim_poll, which the backend calls while it waits: it unlocks on the
// keys, erases on START, and finds programmed flash words by comparing a bank with the
// contents the controller last left there
static struct {
  uint32_t regs[OTA_H7_REG_WORDS];
  uint8_t bank[2][BANK] __attribute__((aligned(32)));
  uint8_t last[2][BANK];
  bool programmed[2][BANK / WORD];  // Since its sector's erase: ECC allows one programming
  uint32_t fail[2];                 // An error flag the bank's next operation raises instead
  bool hung[2], keys_refused, option_fails;
  int erases[2], programs[2], blank_programs, violations;
} s_chip;
static struct ota_flash_stm32h7 s_hw;
static struct ota_flash s_flash;
static struct mg_iobuf s_log;

static uint32_t *sim_regs(int set) {
  return s_chip.regs + set * OTA_H7_BANK_STRIDE;
}

static int sim_swapped(void) {
  return (s_chip.regs[OTA_H7_OPTCR] & OTA_H7_OPTCR_SWAP_BANK) ? 1 : 0;
}

// The right keys unlock a locked CR; keys to an unlocked one lock it until reset
static void sim_keys(uint32_t *r) {
  if (r[OTA_H7_KEYR] == 0) return;
  if (r[OTA_H7_KEYR] == OTA_H7_KEY2 && (r[OTA_H7_CR] & OTA_H7_CR_LOCK) && !s_chip.keys_refused) {
    r[OTA_H7_CR] &= ~OTA_H7_CR_LOCK;
  } else {
    r[OTA_H7_CR] |= OTA_H7_CR_LOCK;
    s_chip.keys_refused = true;
  }
  r[OTA_H7_KEYR] = 0;
}

static void sim_erase(uint32_t *r, int bank) {
  r[OTA_H7_CR] &= ~OTA_H7_CR_START;
  uint32_t cr = r[OTA_H7_CR];
  if ((cr & OTA_H7_CR_LOCK) || !(cr & OTA_H7_CR_SER) || (cr & OTA_H7_CR_PG)) {
    r[OTA_H7_SR] |= OTA_H7_SR_PGSERR;
  } else if (s_chip.fail[bank] != 0) {
    r[OTA_H7_SR] |= s_chip.fail[bank];
    s_chip.fail[bank] = 0;
  } else {
    size_t sector = (cr & OTA_H7_CR_SNB_MASK) >> OTA_H7_CR_SNB_SHIFT;
    memset(s_chip.bank[bank] + sector * SECTOR, 0xFF, SECTOR);
    memset(s_chip.last[bank] + sector * SECTOR, 0xFF, SECTOR);
    memset(s_chip.programmed[bank] + sector * (SECTOR / WORD), 0, SECTOR / WORD);
    r[OTA_H7_SR] |= OTA_H7_SR_EOP;
    s_chip.erases[bank]++;
  }
}

// A flash word stored since the last poll: programmed if PG allows it, else undone
static void sim_program(uint32_t *r, int bank, size_t w) {
  uint8_t *now = s_chip.bank[bank] + w * WORD, *was = s_chip.last[bank] + w * WORD;
  uint32_t cr = r[OTA_H7_CR], fail = s_chip.fail[bank];
  if ((cr & OTA_H7_CR_LOCK) || !(cr & OTA_H7_CR_PG)) fail = OTA_H7_SR_PGSERR;
  if (fail == 0 && s_chip.programmed[bank][w]) s_chip.violations++;
  if (fail != 0) {
    r[OTA_H7_SR] |= fail;
    s_chip.fail[bank] = 0;
    memcpy(now, was, WORD);
    return;
  }
  s_chip.programmed[bank][w] = true;
  memcpy(was, now, WORD);
  r[OTA_H7_SR] |= OTA_H7_SR_EOP;
  s_chip.programs[bank]++;
}

static void sim_bank(int set) {
  uint32_t *r = sim_regs(set);
  int bank = set ^ sim_swapped();
  r[OTA_H7_SR] &= ~r[OTA_H7_CCR];
  r[OTA_H7_CCR] = 0;
  sim_keys(r);
  if (!(r[OTA_H7_CR] & OTA_H7_CR_PG)) r[OTA_H7_SR] &= ~OTA_H7_SR_WBNE;  // The buffer empties
  if (s_chip.hung[bank]) {
    r[OTA_H7_SR] |= OTA_H7_SR_BSY | OTA_H7_SR_QW;
    return;
  }
  if (r[OTA_H7_CR] & OTA_H7_CR_START) sim_erase(r, bank);
  if (memcmp(s_chip.bank[bank], s_chip.last[bank], BANK) == 0) {
    // Stores of 0xFF over 0xFF change no byte: a wait for a write that changed nothing
    if (r[OTA_H7_CR] & OTA_H7_CR_PG) s_chip.blank_programs++;
    return;
  }
  for (size_t w = 0; w < BANK / WORD; w++) {
    if (memcmp(s_chip.bank[bank] + w * WORD, s_chip.last[bank] + w * WORD, WORD) != 0) sim_program(r, bank, w);
  }
}

static void sim_options(void) {
  uint32_t *r = s_chip.regs;
  if (r[OTA_H7_OPTKEYR] == OTA_H7_OPTKEY2) r[OTA_H7_OPTCR] &= ~OTA_H7_OPTCR_OPTLOCK;
  r[OTA_H7_OPTKEYR] = 0;
  if (r[OTA_H7_OPTCCR] & OTA_H7_OPTCCR_CLR_OPTCHANGEERR) r[OTA_H7_OPTSR_CUR] &= ~OTA_H7_OPTSR_OPTCHANGEERR;
  r[OTA_H7_OPTCCR] = 0;
  if (!(r[OTA_H7_OPTCR] & OTA_H7_OPTCR_OPTSTART)) return;
  r[OTA_H7_OPTCR] &= ~OTA_H7_OPTCR_OPTSTART;
  if ((r[OTA_H7_OPTCR] & OTA_H7_OPTCR_OPTLOCK) || s_chip.option_fails) {
    r[OTA_H7_OPTSR_CUR] |= OTA_H7_OPTSR_OPTCHANGEERR;
  } else {
    r[OTA_H7_OPTSR_CUR] =
        (r[OTA_H7_OPTSR_CUR] & ~OTA_H7_OPTSR_SWAP_BANK_OPT) | (r[OTA_H7_OPTSR_PRG] & OTA_H7_OPTSR_SWAP_BANK_OPT);
  }
}

static void sim_poll(struct ota_flash_stm32h7 *hw) {
  cr_assert_eq(hw, &s_hw);
  sim_bank(0);
  sim_bank(1);
  sim_options();
}

// The backend over the chip as mapped now (slot 0 at 0x08000000 is bank 2 when swapped)
static void sim_attach(void) {
  int sw = sim_swapped();
  cr_assert(ota_flash_stm32h7_init(&s_flash, &s_hw, s_chip.regs, s_chip.bank[sw], s_chip.bank[!sw], BANK));
  s_hw.poll = sim_poll;
  s_hw.max_polls = 100;  // The simulation answers at the first poll; a refusal fails fast
}

// A reset: registers locked, the option value programmed last takes effect
static void sim_reset(void) {
  uint32_t opt = s_chip.regs[OTA_H7_OPTSR_CUR] & OTA_H7_OPTSR_SWAP_BANK_OPT;
  memset(s_chip.regs, 0, sizeof(s_chip.regs));
  for (int set = 0; set < 2; set++) sim_regs(set)[OTA_H7_CR] = OTA_H7_CR_LOCK | OTA_H7_CR_PSIZE_MASK;
  s_chip.regs[OTA_H7_OPTCR] = OTA_H7_OPTCR_OPTLOCK | (opt ? OTA_H7_OPTCR_SWAP_BANK : 0);
  s_chip.regs[OTA_H7_OPTSR_CUR] = s_chip.regs[OTA_H7_OPTSR_PRG] = opt;
  s_chip.keys_refused = false;
  sim_attach();
}

static void setup(void) {
  memset(&s_chip, 0, sizeof(s_chip));
  memset(s_chip.bank, 0xFF, sizeof(s_chip.bank));
  memset(s_chip.last, 0xFF, sizeof(s_chip.last));
  sim_reset();
  mg_iobuf_free(&s_log);
  mg_log_set_fn(mg_pfn_iobuf, &s_log);
}

static void teardown(void) {
  mg_log_set_fn(NULL, NULL);
  mg_iobuf_free(&s_log);
  cr_assert_eq(s_chip.violations, 0, "a flash word was programmed twice between erases");
}

TestSuite(ota_flash_stm32h7, .init = setup, .fini = teardown);

static bool logged(const char *want) {
  mg_iobuf_add(&s_log, s_log.len, "", 1);
  bool found = strstr((char *) s_log.buf, want) != NULL;
  s_log.len--;
  return found;
}

#define assert_logged(want) cr_assert(logged(want), "log lacks \"%s\":\n%.*s", want, (int) s_log.len, s_log.buf)

// Both banks back at rest: locked, no request bits, no flags
static void assert_at_rest(void) {
  for (int set = 0; set < 2; set++) {
    uint32_t cr = sim_regs(set)[OTA_H7_CR];
    cr_assert(cr & OTA_H7_CR_LOCK, "CR%d left unlocked: %#x", set + 1, cr);
    cr_assert_eq(cr & (OTA_H7_CR_PG | OTA_H7_CR_SER | OTA_H7_CR_START), 0, "CR%d: %#x", set + 1, cr);
  }
}

static void fill_programmed(int bank, size_t off, size_t len, uint8_t value) {
  memset(s_chip.bank[bank] + off, value, len);
  memset(s_chip.last[bank] + off, value, len);
  memset(s_chip.programmed[bank] + off / WORD, 1, len / WORD);
}

static uint8_t s_data[4 * WORD + 1];

static const uint8_t *data(void) {  // Off by one: the source need not be aligned
  for (size_t i = 0; i < sizeof(s_data); i++) s_data[i] = (uint8_t) (i * 7 + 1);
  return s_data + 1;
}

// --- geometry ---

Test(ota_flash_stm32h7, init_takes_whole_sectors_and_aligned_banks) {
  struct ota_flash f;
  struct ota_flash_stm32h7 hw;
  cr_assert_eq(s_flash.slot_size, BANK);
  cr_assert_eq(s_flash.sector_size, SECTOR);
  cr_assert_eq(s_flash.write_size, WORD);
  cr_assert_eq(s_hw.swapped, 0);
  cr_assert_not(ota_flash_stm32h7_init(&f, &hw, s_chip.regs, s_chip.bank[0], s_chip.bank[1], 0));
  cr_assert_not(ota_flash_stm32h7_init(&f, &hw, s_chip.regs, s_chip.bank[0], s_chip.bank[1], SECTOR + WORD));
  cr_assert_not(ota_flash_stm32h7_init(&f, &hw, s_chip.regs, s_chip.bank[0], s_chip.bank[1], 9 * SECTOR));
  assert_logged("not whole 131072-byte sectors");
  cr_assert_not(ota_flash_stm32h7_init(&f, &hw, s_chip.regs, s_chip.bank[0] + 4, s_chip.bank[1], SECTOR));
  assert_logged("not 32-byte aligned");
  cr_assert(ota_flash_stm32h7_init(&f, &hw, s_chip.regs, s_chip.bank[0], s_chip.bank[1], 2 * SECTOR));
  cr_assert_eq(f.slot_size, 2 * SECTOR);
  cr_assert_eq(hw.max_polls, OTA_STM32H7_MAX_POLLS);
  cr_assert_eq(hw.psize, OTA_STM32H7_PSIZE_X32);
}

// --- erase ---

Test(ota_flash_stm32h7, erase_sets_its_sectors_to_ff_and_no_other) {
  fill_programmed(1, 0, BANK, 0x00);
  cr_assert(s_flash.erase(&s_flash, 1, 3 * SECTOR, 2 * SECTOR));
  cr_assert_eq(s_chip.erases[1], 2);
  cr_assert_eq(s_chip.bank[1][3 * SECTOR], 0xFF);
  cr_assert_eq(s_chip.bank[1][5 * SECTOR - 1], 0xFF);
  cr_assert_eq(s_chip.bank[1][3 * SECTOR - 1], 0x00, "the sector before");
  cr_assert_eq(s_chip.bank[1][5 * SECTOR], 0x00, "the sector after");
  cr_assert_eq(s_chip.erases[0], 0, "slot 0 is the other bank");
  cr_assert(s_flash.erase(&s_flash, 1, 7 * SECTOR, SECTOR), "the last sector");
  cr_assert_eq(s_chip.bank[1][BANK - 1], 0xFF);
  assert_at_rest();
}

Test(ota_flash_stm32h7, erase_refuses_ranges_that_are_not_whole_sectors_of_a_slot) {
  cr_assert_not(s_flash.erase(&s_flash, 1, WORD, SECTOR));
  cr_assert_not(s_flash.erase(&s_flash, 1, 0, SECTOR / 2));
  cr_assert_not(s_flash.erase(&s_flash, 1, BANK, SECTOR), "past the end");
  cr_assert_not(s_flash.erase(&s_flash, 2, 0, SECTOR), "slot 2");
  cr_assert_not(s_flash.erase(&s_flash, -1, 0, SECTOR));
  assert_logged("there are slots 0 and 1 only");
  cr_assert_eq(s_chip.erases[0] + s_chip.erases[1], 0);
}

// --- write ---

Test(ota_flash_stm32h7, write_of_whole_words_lands_and_reads_back) {
  const uint8_t *d = data();
  cr_assert(s_flash.write(&s_flash, 1, SECTOR + 2 * WORD, d, 3 * WORD));
  cr_assert_eq(s_chip.programs[1], 3);
  cr_assert_arr_eq(s_chip.bank[1] + SECTOR + 2 * WORD, d, 3 * WORD);
  cr_assert_eq(s_chip.bank[1][SECTOR + 5 * WORD], 0xFF, "the next word stays erased");
  uint8_t out[3 * WORD];
  cr_assert(s_flash.read(&s_flash, 1, SECTOR + 2 * WORD, out, sizeof(out)));
  cr_assert_arr_eq(out, d, sizeof(out));
  cr_assert(s_flash.write(&s_flash, 1, 0, d, 0), "nothing to write");
  assert_at_rest();
}

Test(ota_flash_stm32h7, word_of_ff_is_left_erased_for_a_later_write) {
  uint8_t buf[2 * WORD];
  memset(buf, 0x11, WORD);
  memset(buf + WORD, 0xFF, WORD);
  cr_assert(s_flash.write(&s_flash, 1, 0, buf, sizeof(buf)));
  cr_assert_eq(s_chip.programs[1], 1);
  cr_assert_eq(s_chip.blank_programs, 0, "the 0xFF word was programmed");
  cr_assert(s_flash.write(&s_flash, 1, WORD, data(), WORD), "the 0xFF word can take a write");
  cr_assert_eq(s_chip.programs[1], 2);
}

Test(ota_flash_stm32h7, write_refuses_what_is_not_whole_32_byte_words) {
  cr_assert_not(s_flash.write(&s_flash, 1, 16, data(), WORD));
  cr_assert_not(s_flash.write(&s_flash, 1, 0, data(), WORD + 1));
  cr_assert_not(s_flash.write(&s_flash, 1, 0, data(), 8));
  assert_logged("not whole 32-byte flash words");
  cr_assert_eq(s_chip.programs[1], 0);
  cr_assert_eq(s_chip.bank[1][16], 0xFF);
}

Test(ota_flash_stm32h7, write_refuses_bytes_that_are_not_erased) {
  cr_assert(s_flash.write(&s_flash, 1, WORD, data(), WORD));
  cr_assert_not(s_flash.write(&s_flash, 1, 0, data(), 2 * WORD));
  assert_logged("byte 32 is not erased");
  cr_assert_eq(s_chip.programs[1], 1, "a refused write programs nothing, not even its erased word");
  cr_assert_eq(s_chip.bank[1][0], 0xFF);
  cr_assert(s_flash.erase(&s_flash, 1, 0, SECTOR));
  cr_assert(s_flash.write(&s_flash, 1, 0, data(), 2 * WORD));
}

Test(ota_flash_stm32h7, out_of_slot_ranges_are_refused) {
  uint8_t out[WORD];
  cr_assert_not(s_flash.write(&s_flash, 1, BANK - WORD, data(), 2 * WORD));
  cr_assert_not(s_flash.write(&s_flash, 2, 0, data(), WORD));
  cr_assert_not(s_flash.read(&s_flash, 0, BANK - 1, out, 2));
  cr_assert_not(s_flash.read(&s_flash, 0, (size_t) -WORD, out, 2 * WORD), "offset + length wraps");
  assert_logged("past the end of the 1048576-byte slot");
  cr_assert(s_flash.read(&s_flash, 0, BANK - WORD, out, WORD));
}

// --- the controller's errors ---

struct flag_case {
  uint32_t flag;
  const char *says;
};
static const struct flag_case s_flags[] = {
    {OTA_H7_SR_WRPERR, "write protection error"}, {OTA_H7_SR_PGSERR, "programming sequence error"},
    {OTA_H7_SR_STRBERR, "strobe error"},          {OTA_H7_SR_INCERR, "inconsistency error"},
    {OTA_H7_SR_OPERR, "operation error"},         {OTA_H7_SR_RDPERR, "read protection error"},
    {OTA_H7_SR_RDSERR, "secure-only"},            {OTA_H7_SR_DBECCERR, "double ECC error"},
    {OTA_H7_SR_CRCRDERR, "CRC read error"},
};

Test(ota_flash_stm32h7, each_error_flag_fails_an_erase_with_its_own_log_line) {
  for (size_t i = 0; i < sizeof(s_flags) / sizeof(s_flags[0]); i++) {
    s_log.len = 0;
    s_chip.fail[1] = s_flags[i].flag;
    cr_assert_not(s_flash.erase(&s_flash, 1, 3 * SECTOR, SECTOR), "%s", s_flags[i].says);
    assert_logged(s_flags[i].says);
    assert_logged("flash erase of slot 1 (bank 2) at 393216 (sector 3)");
    assert_at_rest();
  }
  cr_assert_eq(s_chip.erases[1], 0);
  cr_assert(s_flash.erase(&s_flash, 1, 3 * SECTOR, SECTOR), "the flags were cleared");
}

Test(ota_flash_stm32h7, write_protection_error_fails_a_write_and_stops_it) {
  s_chip.fail[1] = OTA_H7_SR_WRPERR;
  cr_assert_not(s_flash.write(&s_flash, 1, 2 * SECTOR + WORD, data(), 3 * WORD));
  assert_logged("flash write of slot 1 (bank 2) at 262176 (sector 2): write protection error");
  cr_assert_eq(s_chip.programs[1], 0, "no word after the failed one");
  cr_assert_eq(s_chip.bank[1][2 * SECTOR + 2 * WORD], 0xFF);
  assert_at_rest();
}

Test(ota_flash_stm32h7, write_buffer_left_waiting_fails_the_write) {
  s_chip.fail[1] = OTA_H7_SR_WBNE;
  cr_assert_not(s_flash.write(&s_flash, 1, 0, data(), 2 * WORD));
  assert_logged("the write buffer still waits for data");
  cr_assert_eq(s_chip.programs[1], 0);
  assert_at_rest();
  cr_assert(s_flash.write(&s_flash, 1, 0, data(), 2 * WORD), "the next write finds the buffer empty");
}

Test(ota_flash_stm32h7, ecc_errors_on_read_warn_when_corrected_and_fail_when_not) {
  uint8_t out[WORD];
  sim_regs(1)[OTA_H7_SR] |= OTA_H7_SR_SNECCERR;
  cr_assert(s_flash.read(&s_flash, 1, SECTOR, out, WORD));
  assert_logged("single ECC error corrected");
  sim_poll(&s_hw);  // A read waits for nothing: the controller takes the flags' clearing now
  sim_regs(1)[OTA_H7_SR] |= OTA_H7_SR_DBECCERR;
  cr_assert_not(s_flash.read(&s_flash, 1, SECTOR, out, WORD));
  assert_logged("flash read of slot 1 (bank 2) at 131072 (sector 1): double ECC error");
  sim_poll(&s_hw);
  cr_assert(s_flash.read(&s_flash, 1, SECTOR, out, WORD), "the flag was cleared");
}

Test(ota_flash_stm32h7, flags_left_by_an_earlier_operation_do_not_fail_the_next) {
  sim_regs(1)[OTA_H7_SR] |= OTA_H7_SR_PGSERR;
  cr_assert(s_flash.write(&s_flash, 1, 0, data(), WORD));
  cr_assert_eq(sim_regs(1)[OTA_H7_SR] & OTA_H7_SR_ERRORS, 0);
}

Test(ota_flash_stm32h7, unlocked_bank_gets_no_second_key_pair) {
  sim_regs(1)[OTA_H7_CR] &= ~OTA_H7_CR_LOCK;  // Left so by other code: keys now would lock it
  cr_assert(s_flash.write(&s_flash, 1, 0, data(), WORD));
  cr_assert_not(s_chip.keys_refused);
}

Test(ota_flash_stm32h7, controller_that_stays_busy_times_out) {
  s_chip.hung[1] = true;
  cr_assert_not(s_flash.erase(&s_flash, 1, 0, SECTOR));
  assert_logged("flash erase of slot 1 (bank 2) at 0 (sector 0): still busy after 100 status reads");
  s_log.len = 0;
  cr_assert_not(s_flash.write(&s_flash, 1, 0, data(), WORD));
  assert_logged("still busy after 100 status reads");
  cr_assert(s_flash.write(&s_flash, 0, 0, data(), WORD), "the other bank works on");
}

Test(ota_flash_stm32h7, refused_unlock_fails_with_a_reason) {
  s_chip.keys_refused = true;
  cr_assert_not(s_flash.erase(&s_flash, 1, 0, SECTOR));
  assert_logged("stays locked");
  cr_assert_eq(s_chip.erases[1], 0);
}

// --- bank swap ---

Test(ota_flash_stm32h7, swapped_banks_trade_slots_and_names) {
  s_chip.regs[OTA_H7_OPTSR_CUR] = OTA_H7_OPTSR_SWAP_BANK_OPT;
  sim_reset();
  cr_assert_eq(s_hw.swapped, 1);
  cr_assert(s_flash.write(&s_flash, 1, 0, data(), WORD));
  cr_assert_eq(s_chip.programs[0], 1, "slot 1 is bank 1");
  s_chip.fail[0] = OTA_H7_SR_WRPERR;
  cr_assert_not(s_flash.erase(&s_flash, 1, SECTOR, SECTOR));
  assert_logged("flash erase of slot 1 (bank 1) at 131072 (sector 1)");
}

Test(ota_flash_stm32h7, boot_slot_1_runs_it_as_slot_0_after_reset) {
  cr_assert(s_flash.write(&s_flash, 1, 0, data(), 2 * WORD));
  cr_assert(ota_flash_stm32h7_boot_slot(&s_hw, 1));
  cr_assert(s_chip.regs[OTA_H7_OPTSR_CUR] & OTA_H7_OPTSR_SWAP_BANK_OPT);
  cr_assert_not(s_chip.regs[OTA_H7_OPTCR] & OTA_H7_OPTCR_SWAP_BANK, "not before a reset");
  cr_assert(s_chip.regs[OTA_H7_OPTCR] & OTA_H7_OPTCR_OPTLOCK, "options locked again");
  sim_attach();
  cr_assert_eq(s_hw.swapped, 0, "an init before the reset sees the mapping in effect");
  cr_assert(ota_flash_stm32h7_boot_slot(&s_hw, 1), "asking twice asks for the same");
  cr_assert(s_chip.regs[OTA_H7_OPTSR_CUR] & OTA_H7_OPTSR_SWAP_BANK_OPT);
  sim_reset();
  uint8_t out[2 * WORD];
  cr_assert(s_flash.read(&s_flash, 0, 0, out, sizeof(out)));
  cr_assert_arr_eq(out, data(), sizeof(out));
  cr_assert(ota_flash_stm32h7_boot_slot(&s_hw, 1), "and back: a rollback");
  sim_reset();
  cr_assert_eq(s_hw.swapped, 0);
}

Test(ota_flash_stm32h7, boot_slot_0_cancels_a_swap_not_yet_in_effect) {
  cr_assert(ota_flash_stm32h7_boot_slot(&s_hw, 1));
  cr_assert(ota_flash_stm32h7_boot_slot(&s_hw, 0));
  sim_reset();
  cr_assert_eq(s_hw.swapped, 0);
  cr_assert_not(ota_flash_stm32h7_boot_slot(&s_hw, 2));
  assert_logged("slots 0 and 1 only");
}

Test(ota_flash_stm32h7, option_change_error_fails_boot_slot) {
  s_chip.option_fails = true;
  cr_assert_not(ota_flash_stm32h7_boot_slot(&s_hw, 1));
  assert_logged("option byte change error");
  cr_assert(s_chip.regs[OTA_H7_OPTCR] & OTA_H7_OPTCR_OPTLOCK);
}

// --- cache ---

static uintptr_t s_inval_addr;
static size_t s_inval_len;
static void record_invalidate(void *addr, size_t len) {
  s_inval_addr = (uintptr_t) addr;
  s_inval_len = len;
}

Test(ota_flash_stm32h7, changed_flash_is_dropped_from_the_cache) {
  s_hw.invalidate = record_invalidate;
  cr_assert(s_flash.erase(&s_flash, 1, 2 * SECTOR, SECTOR));
  cr_assert_eq(s_inval_addr, (uintptr_t) (s_chip.bank[1] + 2 * SECTOR));
  cr_assert_eq(s_inval_len, SECTOR);
  cr_assert(s_flash.write(&s_flash, 1, 2 * SECTOR + WORD, data(), 2 * WORD));
  cr_assert_eq(s_inval_addr, (uintptr_t) (s_chip.bank[1] + 2 * SECTOR + WORD));
  cr_assert_eq(s_inval_len, 2 * WORD);
}

// --- the flash seam's contract, for any backend ---

// A slot's first sector, erased, takes writes of whole program units once; the other
// slot is untouched; an erase brings the bytes back to 0xFF
static void contract(struct ota_flash *f) {
  size_t unit = f->write_size > 1 ? f->write_size : 1;
  uint8_t in[2 * WORD], out[2 * WORD];
  for (size_t i = 0; i < sizeof(in); i++) in[i] = (uint8_t) (0xA0 ^ i);
  for (int slot = 0; slot < 2; slot++) cr_assert(f->erase(f, slot, 0, f->sector_size));
  cr_assert(f->write(f, 1, unit, in, 2 * unit));
  cr_assert(f->read(f, 1, unit, out, 2 * unit));
  cr_assert_arr_eq(out, in, 2 * unit);
  cr_assert(f->read(f, 0, unit, out, 2 * unit));
  for (size_t i = 0; i < 2 * unit; i++) cr_assert_eq(out[i], 0xFF, "slot 0 byte %lu", (unsigned long) i);
  cr_assert_not(f->write(f, 1, unit, in, unit), "written once");
  cr_assert_not(f->write(f, 1, f->slot_size - unit, in, 2 * unit), "past the end");
  cr_assert_not(f->erase(f, 1, unit, f->sector_size), "not on a sector boundary");
  cr_assert_not(f->read(f, 2, 0, out, 1));
  cr_assert(f->erase(f, 1, 0, f->sector_size));
  cr_assert(f->read(f, 1, unit, out, 2 * unit));
  cr_assert_eq(out[0], 0xFF);
  cr_assert(f->write(f, 1, unit, in, 2 * unit), "writable again after the erase");
  cr_assert(f->sync == NULL || f->sync(f, 1));
}

Test(ota_flash_stm32h7, simulated_h7_keeps_the_flash_contract) {
  contract(&s_flash);
}

Test(ota_flash_stm32h7, ram_backend_keeps_the_same_contract) {
  static uint8_t mem[4 * 256];
  struct ota_flash f;
  cr_assert(ota_flash_ram_init(&f, mem, sizeof(mem), 256));
  contract(&f);
}
