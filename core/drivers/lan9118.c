// SMSC LAN9118 driver for the built-in stack (the MAC of QEMU's mps2-an385 board): frames
// through the chip's FIFOs by programmed I/O, the MAC and PHY through their indirect registers.
#include "meerkat.h"

#if MG_ENABLE_TCPIP
// Where the chip is mapped; mps2-an385 puts it here
#ifndef MG_LAN9118_BASE
#define MG_LAN9118_BASE 0x40200000u
#endif
#define LAN_REG(off) (*(volatile uint32_t *) (uintptr_t) (MG_LAN9118_BASE + (off)))

// System registers (datasheet section 5.3), by their offset
#define LAN_RX_DATA_FIFO LAN_REG(0x00)
#define LAN_TX_DATA_FIFO LAN_REG(0x20)
#define LAN_RX_STATUS_FIFO LAN_REG(0x40)
#define LAN_TX_STATUS_FIFO LAN_REG(0x48)
#define LAN_ID_REV LAN_REG(0x50)
#define LAN_IRQ_CFG LAN_REG(0x54)
#define LAN_INT_STS LAN_REG(0x58)
#define LAN_INT_EN LAN_REG(0x5c)
#define LAN_BYTE_TEST LAN_REG(0x64)
#define LAN_RX_CFG LAN_REG(0x6c)
#define LAN_TX_CFG LAN_REG(0x70)
#define LAN_HW_CFG LAN_REG(0x74)
#define LAN_RX_DP_CTRL LAN_REG(0x78)
#define LAN_RX_FIFO_INF LAN_REG(0x7c)
#define LAN_TX_FIFO_INF LAN_REG(0x80)
#define LAN_PMT_CTRL LAN_REG(0x84)
#define LAN_MAC_CSR_CMD LAN_REG(0xa4)
#define LAN_MAC_CSR_DATA LAN_REG(0xa8)

#define LAN_BYTE_TEST_VALUE 0x87654321u  // Reads so whatever the bus width and order
#define LAN_PMT_READY (1u << 0)
#define LAN_HW_CFG_SRST (1u << 0)
#define LAN_HW_CFG_MBO (1u << 20)            // "Must be one"
#define LAN_HW_CFG_TX_FIF_5K (5u << 16)      // 4608 bytes of TX data FIFO, the reset default
#define LAN_IRQ_CFG_IRQ_EN (1u << 8)
#define LAN_IRQ_CFG_IRQ_POL (1u << 4)       // Active high
#define LAN_IRQ_CFG_IRQ_TYPE (1u << 0)      // Push-pull
#define LAN_INT_RSFL (1u << 3)              // RX status FIFO above its level (0): a frame waits
#define LAN_TX_CFG_TX_ON (1u << 1)
#define LAN_TX_CFG_TXSAO (1u << 2)           // TX status may overrun: we do not need every status
#define LAN_RX_DP_FFWD (1u << 31)
#define LAN_CSR_BUSY (1u << 31)
#define LAN_CSR_READ (1u << 30)
#define LAN_TX_CMD_A_FIRST (1u << 13)
#define LAN_TX_CMD_A_LAST (1u << 12)
#define LAN_RX_STS_ERROR (1u << 15)          // CRC, runt, too long or collision: the frame is bad

// MAC registers, reached through MAC_CSR_CMD / MAC_CSR_DATA (section 5.4)
#define LAN_MAC_CR 1u
#define LAN_MAC_ADDRH 2u
#define LAN_MAC_ADDRL 3u
#define LAN_MAC_MII_ACC 6u
#define LAN_MAC_MII_DATA 7u
#define LAN_MAC_CR_RXEN (1u << 2)
#define LAN_MAC_CR_TXEN (1u << 3)
#define LAN_MAC_CR_FDPX (1u << 20)
#define LAN_MII_BUSY (1u << 0)
#define LAN_MII_WRITE (1u << 1)

// The internal PHY (address 1) and its registers (section 5.5)
#define LAN_PHY_ADDR 1u
#define LAN_PHY_BCR 0u
#define LAN_PHY_BSR 1u
#define LAN_PHY_ANAR 4u
#define LAN_PHY_ANLPAR 5u
#define LAN_PHY_BCR_RESET (1u << 15)
#define LAN_PHY_BCR_ANEG (1u << 12)
#define LAN_PHY_BCR_ANEG_RESTART (1u << 9)
#define LAN_PHY_BSR_LINK (1u << 2)
#define LAN_PHY_ANAR_ALL 0x01e1u             // 10 and 100 Mb/s, half and full duplex, IEEE 802.3
#define LAN_PHY_AN_100FD (1u << 8)
#define LAN_PHY_AN_100HD (1u << 7)
#define LAN_PHY_AN_10FD (1u << 6)

#define LAN_SPIN 1000000u  // Bound on every busy wait: a missing or hung chip fails init, never hangs it
#define LAN_FRAME_MAX 1514u

static bool lan_link_up;  // What poll last found; one chip per board

// The datasheet's minimum delay between writing some registers and reading others:
// a read of BYTE_TEST takes at least 45 ns, so a few cover the longest (135 ns)
static void lan_settle(void) {
  for (int i = 0; i < 4; i++) (void) LAN_BYTE_TEST;
}

static bool lan_spin_until_clear(volatile uint32_t *reg, uint32_t bits) {
  for (uint32_t i = 0; i < LAN_SPIN; i++) {
    if ((*reg & bits) == 0) return true;
  }
  return false;
}

static uint32_t lan_mac_read(uint32_t reg) {
  LAN_MAC_CSR_CMD = LAN_CSR_BUSY | LAN_CSR_READ | reg;
  lan_settle();
  (void) lan_spin_until_clear(&LAN_MAC_CSR_CMD, LAN_CSR_BUSY);
  return LAN_MAC_CSR_DATA;
}

static void lan_mac_write(uint32_t reg, uint32_t value) {
  LAN_MAC_CSR_DATA = value;
  LAN_MAC_CSR_CMD = LAN_CSR_BUSY | reg;
  lan_settle();
  (void) lan_spin_until_clear(&LAN_MAC_CSR_CMD, LAN_CSR_BUSY);
}

// The PHY through MII_ACC / MII_DATA, themselves MAC registers
static uint16_t lan_phy_read(uint32_t reg) {
  lan_mac_write(LAN_MAC_MII_ACC, (LAN_PHY_ADDR << 11) | (reg << 6) | LAN_MII_BUSY);
  for (uint32_t i = 0; i < LAN_SPIN && (lan_mac_read(LAN_MAC_MII_ACC) & LAN_MII_BUSY); i++) continue;
  return (uint16_t) lan_mac_read(LAN_MAC_MII_DATA);
}

static void lan_phy_write(uint32_t reg, uint16_t value) {
  lan_mac_write(LAN_MAC_MII_DATA, value);
  lan_mac_write(LAN_MAC_MII_ACC, (LAN_PHY_ADDR << 11) | (reg << 6) | LAN_MII_WRITE | LAN_MII_BUSY);
  for (uint32_t i = 0; i < LAN_SPIN && (lan_mac_read(LAN_MAC_MII_ACC) & LAN_MII_BUSY); i++) continue;
}

// Reset the PHY and let it negotiate everything it can
static void lan_phy_start(void) {
  lan_phy_write(LAN_PHY_BCR, LAN_PHY_BCR_RESET);
  for (uint32_t i = 0; i < LAN_SPIN && (lan_phy_read(LAN_PHY_BCR) & LAN_PHY_BCR_RESET); i++) continue;
  lan_phy_write(LAN_PHY_ANAR, LAN_PHY_ANAR_ALL);
  lan_phy_write(LAN_PHY_BCR, LAN_PHY_BCR_ANEG | LAN_PHY_BCR_ANEG_RESTART);
}

static bool lan_reset(void) {
  uint32_t i;
  for (i = 0; i < LAN_SPIN && !(LAN_PMT_CTRL & LAN_PMT_READY); i++) continue;
  LAN_HW_CFG = LAN_HW_CFG_SRST;
  lan_settle();
  if (i == LAN_SPIN || !lan_spin_until_clear(&LAN_HW_CFG, LAN_HW_CFG_SRST)) return false;
  LAN_HW_CFG = LAN_HW_CFG_MBO | LAN_HW_CFG_TX_FIF_5K;
  return true;
}

static bool lan_init(struct mg_tcpip_if *ifp) {
  const uint8_t *m = ifp->mac;
  if (LAN_BYTE_TEST != LAN_BYTE_TEST_VALUE) {
    MG_ERROR(("LAN9118: none at %#lx (BYTE_TEST reads %#lx)", (unsigned long) MG_LAN9118_BASE, (unsigned long) LAN_BYTE_TEST));
    return false;
  }
  if (!lan_reset()) {
    MG_ERROR(("LAN9118: soft reset did not complete"));
    return false;
  }
  // Frames are read by polling; the IRQ pin only wakes a sleeping core (lan_wait) when a
  // frame waits. One status word per 4-byte-aligned frame
  LAN_INT_EN = 0, LAN_RX_CFG = 0;
  LAN_IRQ_CFG = LAN_IRQ_CFG_IRQ_EN | LAN_IRQ_CFG_IRQ_POL | LAN_IRQ_CFG_IRQ_TYPE;
  LAN_INT_STS = 0xffffffffu;
  LAN_INT_EN = LAN_INT_RSFL;
  lan_mac_write(LAN_MAC_ADDRL, (uint32_t) m[0] | (uint32_t) m[1] << 8 | (uint32_t) m[2] << 16 | (uint32_t) m[3] << 24);
  lan_mac_write(LAN_MAC_ADDRH, (uint32_t) m[4] | (uint32_t) m[5] << 8);
  lan_phy_start();
  // The MAC's own filter passes our address, broadcast and the multicast hash: no enable_mac_check needed
  lan_mac_write(LAN_MAC_CR, LAN_MAC_CR_TXEN | LAN_MAC_CR_RXEN);
  LAN_TX_CFG = LAN_TX_CFG_TX_ON | LAN_TX_CFG_TXSAO;
  lan_link_up = false;
  MG_INFO(("LAN9118 at %#lx, ID_REV %#lx, MAC %M", (unsigned long) MG_LAN9118_BASE, (unsigned long) LAN_ID_REV, mg_print_mac, m));
  return true;
}

// The head frame leaves the data FIFO unread: fast-forward needs at least 4 words
static void lan_rx_discard(uint32_t words) {
  if (words >= 4) {
    LAN_RX_DP_CTRL = LAN_RX_DP_FFWD;
    lan_settle();
    (void) lan_spin_until_clear(&LAN_RX_DP_CTRL, LAN_RX_DP_FFWD);
  } else {
    while (words-- > 0) (void) LAN_RX_DATA_FIFO;
  }
}

// One frame, without its FCS (the chip checked it): buf need not be word-aligned
static size_t lan_rx(void *buf, size_t len, struct mg_tcpip_if *ifp) {
  if (((LAN_RX_FIFO_INF >> 16) & 0xffu) == 0) return 0;  // No status word: no frame
  uint32_t status = LAN_RX_STATUS_FIFO;
  uint32_t size = (status >> 16) & 0x3fffu, words = (size + 3) / 4;
  if ((status & LAN_RX_STS_ERROR) || size < 4 + 14 || size - 4 > len) {
    lan_rx_discard(words);
    ifp->counters.rx_errors++;
    return 0;
  }
  uint8_t *p = (uint8_t *) buf;
  size_t n = size - 4;
  for (size_t i = 0; i < words; i++) {
    uint32_t w = LAN_RX_DATA_FIFO;  // Little-endian: the first byte on the wire is the low one
    if (i * 4 < n) memcpy(p + i * 4, &w, n - i * 4 < 4 ? n - i * 4 : 4);
  }
  return n;
}

// One frame in one buffer: command A (first and last segment, its size), command B (tag, length)
static size_t lan_tx(const void *buf, size_t len, struct mg_tcpip_if *ifp) {
  const uint8_t *p = (const uint8_t *) buf;
  size_t words = (len + 3) / 4;
  (void) ifp;
  if (len == 0 || len > LAN_FRAME_MAX) return 0;
  while ((LAN_TX_FIFO_INF >> 16) & 0xffu) (void) LAN_TX_STATUS_FIFO;  // Statuses we do not use
  if ((LAN_TX_FIFO_INF & 0xffffu) < words * 4) return 0;               // No room now
  LAN_TX_DATA_FIFO = LAN_TX_CMD_A_FIRST | LAN_TX_CMD_A_LAST | (uint32_t) len;
  LAN_TX_DATA_FIFO = (uint32_t) len << 16 | (uint32_t) len;  // Tag: the length, unused
  for (size_t i = 0; i < words; i++) {
    uint32_t w = 0;
    memcpy(&w, p + i * 4, len - i * 4 < 4 ? len - i * 4 : 4);
    LAN_TX_DATA_FIFO = w;
  }
  return len;
}

// What auto-negotiation chose (IEEE 802.3 clause 28: the best mode both advertise),
// from the standard registers (QEMU's PHY has no vendor status register)
static bool lan_phy_full_duplex(void) {
  uint32_t common = lan_phy_read(LAN_PHY_ANAR) & lan_phy_read(LAN_PHY_ANLPAR);
  if (common & LAN_PHY_AN_100FD) return true;
  if (common & LAN_PHY_AN_100HD) return false;
  return (common & LAN_PHY_AN_10FD) != 0;
}

// The PHY is slow to ask (MII through the MAC CSRs): once a second. The MAC follows
// the duplex the PHY negotiated
static bool lan_poll(struct mg_tcpip_if *ifp, bool s1) {
  (void) ifp;
  if (!s1) return lan_link_up;
  (void) lan_phy_read(LAN_PHY_BSR);  // Link status latches low: the second read is now
  bool up = (lan_phy_read(LAN_PHY_BSR) & LAN_PHY_BSR_LINK) != 0;
  if (up && !lan_link_up) {
    uint32_t cr = lan_mac_read(LAN_MAC_CR) & ~LAN_MAC_CR_FDPX;
    if (lan_phy_full_duplex()) cr |= LAN_MAC_CR_FDPX;
    lan_mac_write(LAN_MAC_CR, cr);
  }
  lan_link_up = up;
  return up;
}

#if defined(__arm__) && MG_PORT_BAREMETAL
// Sleep until a frame waits or ms pass, in the board's sleep (WFI), which the IRQ pin
// ends. RSFL latches: cleared before the FIFO is looked at, so a frame that comes after
// the look raises the pin again and is never slept through
static void lan_wait(struct mg_tcpip_if *ifp, int ms) {
  uint64_t now = mg_millis(), until = now + (uint64_t) (ms > 0 ? ms : 0);
  (void) ifp;
  for (; now < until; now = mg_millis()) {
    LAN_INT_STS = LAN_INT_RSFL;
    if ((LAN_RX_FIFO_INF >> 16) & 0xffu) break;
    mg_board_sleep((int) (until - now));
  }
}
#define LAN_WAIT lan_wait
#else
#define LAN_WAIT NULL
#endif

struct mg_tcpip_driver mg_tcpip_driver_lan9118 = {lan_init, lan_tx, lan_rx, lan_poll, LAN_WAIT, NULL};
#endif
