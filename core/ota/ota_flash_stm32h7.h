// The STM32H7 flash interface's registers as RM0433 describes them: the map that
// ota_flash_stm32h7.c drives and the unit test's simulated controller answers.
#ifndef OTA_FLASH_STM32H7_H
#define OTA_FLASH_STM32H7_H

// Offsets in 32-bit words from the block's base. The bank at 0x08100000 has its own
// KEYR, CR, SR and CCR at the same offsets plus 0x100 bytes.
#define OTA_H7_KEYR 1       // 0x04: the two unlock keys, in order
#define OTA_H7_OPTKEYR 2    // 0x08: the option unlock keys
#define OTA_H7_CR 3         // 0x0C: control
#define OTA_H7_SR 4         // 0x10: status
#define OTA_H7_CCR 5        // 0x14: write 1 to clear a status flag
#define OTA_H7_OPTCR 6      // 0x18: option control
#define OTA_H7_OPTSR_CUR 7  // 0x1C: option status, as programmed
#define OTA_H7_OPTSR_PRG 8  // 0x20: option values to program
#define OTA_H7_OPTCCR 9     // 0x24: clears option status flags
#define OTA_H7_BANK_STRIDE 64
#define OTA_H7_REG_WORDS (2 * OTA_H7_BANK_STRIDE)

#define OTA_H7_KEY1 0x45670123u
#define OTA_H7_KEY2 0xCDEF89ABu
#define OTA_H7_OPTKEY1 0x08192A3Bu
#define OTA_H7_OPTKEY2 0x4C5D6E7Fu

// FLASH_CR1/2
#define OTA_H7_CR_LOCK (1u << 0)
#define OTA_H7_CR_PG (1u << 1)
#define OTA_H7_CR_SER (1u << 2)
#define OTA_H7_CR_PSIZE_SHIFT 4
#define OTA_H7_CR_PSIZE_MASK (3u << 4)
#define OTA_H7_CR_START (1u << 7)
#define OTA_H7_CR_SNB_SHIFT 8
#define OTA_H7_CR_SNB_MASK (7u << 8)

// FLASH_SR1/2; FLASH_CCR1/2 clear the flags at the same bits
#define OTA_H7_SR_BSY (1u << 0)
#define OTA_H7_SR_WBNE (1u << 1)  // Write buffer holds part of a flash word
#define OTA_H7_SR_QW (1u << 2)    // A write or erase waits or runs
#define OTA_H7_SR_EOP (1u << 16)
#define OTA_H7_SR_WRPERR (1u << 17)
#define OTA_H7_SR_PGSERR (1u << 18)
#define OTA_H7_SR_STRBERR (1u << 19)
#define OTA_H7_SR_INCERR (1u << 21)
#define OTA_H7_SR_OPERR (1u << 22)
#define OTA_H7_SR_RDPERR (1u << 23)
#define OTA_H7_SR_RDSERR (1u << 24)
#define OTA_H7_SR_SNECCERR (1u << 25)
#define OTA_H7_SR_DBECCERR (1u << 26)
#define OTA_H7_SR_CRCRDERR (1u << 28)
#define OTA_H7_SR_ERRORS                                                                       \
  (OTA_H7_SR_WRPERR | OTA_H7_SR_PGSERR | OTA_H7_SR_STRBERR | OTA_H7_SR_INCERR | OTA_H7_SR_OPERR | \
   OTA_H7_SR_RDPERR | OTA_H7_SR_RDSERR | OTA_H7_SR_SNECCERR | OTA_H7_SR_DBECCERR | OTA_H7_SR_CRCRDERR)

// FLASH_OPTCR: SWAP_BANK is the mapping in effect since the last reset
#define OTA_H7_OPTCR_OPTLOCK (1u << 0)
#define OTA_H7_OPTCR_OPTSTART (1u << 1)
#define OTA_H7_OPTCR_SWAP_BANK (1u << 31)
// FLASH_OPTSR_CUR/PRG: SWAP_BANK_OPT is the mapping the next reset brings
#define OTA_H7_OPTSR_OPT_BUSY (1u << 0)
#define OTA_H7_OPTSR_OPTCHANGEERR (1u << 30)
#define OTA_H7_OPTSR_SWAP_BANK_OPT (1u << 31)
#define OTA_H7_OPTCCR_CLR_OPTCHANGEERR (1u << 30)

#endif  // OTA_FLASH_STM32H7_H
