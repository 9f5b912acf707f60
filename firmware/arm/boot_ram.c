// The board's boot loader (firmware/boot.h) on QEMU's mps2-an385: the two OTA slots in code
// RAM above the image, the boot record and the handoff in data RAM's first 4 KiB.
// QEMU's system reset loads the ELF (the installed program, "factory") again and leaves
// the rest of RAM as it was (checked: a word outside the ELF's segments survives SYSRESETREQ),
// so the ELF is this board's ROM and both regions its flash. At every reset the factory
// runs this boot stage first: a slot that holds an image is checked whole, copied over the
// image region by a function in data RAM, and started from its vector table.
#include "boot.h"
#include "board.h"

// The linker script's regions (addresses only)
extern uint8_t __ota_slots_start__[], __ota_slots_size__[], __noinit_start__[], __noinit_size__[],
    __image_start__[], __image_max__[];

#define BOOT_RAM_MAGIC 0x544b4d42u    // "BMKT": the regions were formatted (erased) once
#define BOOT_RAM_HANDOFF 0x48414e00u  // | slot: set by the boot stage just before it jumps
#define BOOT_RAM_SECTOR 4096u
#define BOOT_RAM_RECORD_SECTOR 256u
#define BOOT_RAM_VTOR (*(volatile uint32_t *) 0xE000ED08u)

// What a reset keeps in the NOINIT region. A cold power-up leaves it as RAM comes up
// (zero under QEMU, noise on silicon): no magic, so the slots are erased then.
struct boot_ram_noinit {
  uint32_t magic;
  uint32_t handoff;             // BOOT_RAM_HANDOFF | slot, read and cleared by the started image
  char factory_version[24];     // The installed program's, written whenever it runs
  uint8_t record[2 * BOOT_RAM_RECORD_SECTOR];  // The boot record's two copies (ota_boot.c)
};

static struct boot_ram_noinit *boot_ram_noinit(void) {
  return (struct boot_ram_noinit *) (void *) __noinit_start__;
}

// First power-up: every slot byte erased, no record (ota_boot_load starts from slot 0)
static void boot_ram_format(struct boot_ram_noinit *n) {
  MG_INFO(("first power-up: erasing the OTA slots (%lu bytes)", (unsigned long) (uintptr_t) __ota_slots_size__));
  memset(__ota_slots_start__, 0xFF, (size_t) (uintptr_t) __ota_slots_size__);
  memset(n, 0, sizeof(*n));
  memset(n->record, 0xFF, sizeof(n->record));
  n->magic = BOOT_RAM_MAGIC;
}

// Runs from data RAM (the linker script puts .ramfunc there): it overwrites the image
// region, where the code that called it was. Copies words (no memcpy: that is in the
// region), then starts the copy as a reset would: its vector table, stack and reset vector.
__attribute__((section(".ramfunc"), noinline, long_call, noreturn)) static void boot_ram_jump(
    const uint32_t *from, uint32_t words, volatile uint32_t *image) {
  for (uint32_t i = 0; i < words; i++) image[i] = from[i];
  BOOT_RAM_VTOR = (uint32_t) (uintptr_t) image;
  __asm__ volatile("dsb\n\tisb\n\tmsr msp, %0\n\tcpsie i\n\tbx %1" : : "r"(image[0]), "r"(image[1]) : "memory");
  for (;;) continue;
}

// Starts the image in slot; returns only if it cannot (logged)
static void boot_ram_start(struct boot *b, int slot, const struct mg_ota_header *h) {
  size_t max = (size_t) (uintptr_t) __image_max__;
  if (h->payload_size < 8 || h->payload_size > max) {
    MG_ERROR(("slot %d: a payload of %lu bytes cannot run from the %lu-byte image region", slot,
              (unsigned long) h->payload_size, (unsigned long) max));
    return;
  }
  const uint8_t *payload = __ota_slots_start__ + (size_t) slot * b->slots.slot_size + MG_OTA_HEADER_SIZE;
  MG_INFO(("starting slot %d: version %u.%u.%u, %lu bytes", slot, h->version.major, h->version.minor,
           h->version.patch, (unsigned long) h->payload_size));
  boot_ram_noinit()->handoff = BOOT_RAM_HANDOFF | (uint32_t) slot;
  board_quiesce();
  boot_ram_jump((const uint32_t *) (const void *) payload, (h->payload_size + 3) / 4,
                (volatile uint32_t *) (void *) __image_start__);
}

// boot_choose's run: the factory is this program; any other slot is checked whole and started
static bool boot_ram_run(struct boot *b, int slot, void *arg) {
  struct mg_ota_header h;
  char why[128];
  (void) arg;
  if (boot_is_factory(b, slot)) return true;
  if (!ota_slot_verify(&b->cfg, slot, &h, why, sizeof(why))) {
    MG_ERROR(("slot %d holds no valid image (%s)", slot, why));
    return false;
  }
  boot_ram_start(b, slot, &h);
  return false;
}

bool boot_start(struct boot *b, const char *version) {
  struct boot_ram_noinit *n = boot_ram_noinit();
  size_t slots_size = (size_t) (uintptr_t) __ota_slots_size__;
  memset(b, 0, sizeof(*b));
  if (sizeof(*n) > (size_t) (uintptr_t) __noinit_size__) return false;
  if (n->magic != BOOT_RAM_MAGIC) boot_ram_format(n);
  if (!ota_flash_ram_init(&b->slots, __ota_slots_start__, slots_size - slots_size % (2 * BOOT_RAM_SECTOR),
                          BOOT_RAM_SECTOR) ||
      !ota_flash_ram_init(&b->record_flash, n->record, sizeof(n->record), BOOT_RAM_RECORD_SECTOR))
    return false;
  ota_boot_load(&b->record, &b->record_flash);
  boot_cfg_init(b, version);
  uint32_t handoff = n->handoff;
  n->handoff = 0;  // The next reset selects again
  if ((handoff & ~1u) == BOOT_RAM_HANDOFF) {
    b->running = (int) (handoff & 1u);
  } else {
    b->running = boot_choose(b, boot_ram_run, NULL);  // Returns only for the factory
    if (b->running < 0) {
      MG_ERROR(("no slot can start: running the installed program"));
      b->running = 0;
    }
  }
  boot_settle(b);
  if (b->factory) mg_snprintf(n->factory_version, sizeof(n->factory_version), "%s", version);
  mg_snprintf(b->factory_version, sizeof(b->factory_version), "%s", n->factory_version);
  return true;
}

void boot_restart(struct boot *b) {
  (void) b;
  board_reset();
}
