// The flash filesystem over any bytes: the record parser on the input as a header, then
// the input as a flash slot, mounted, every file read, one written, mounted again.
#include "fs/fs_flash.h"

#define FUZZ_SECTOR 256
static uint8_t s_mem[2 * 4 * FUZZ_SECTOR];

static void fuzz_read_all(void) {
  for (size_t i = 0; i < fs_flash_state.nfiles; i++) {
    struct mg_str s = mg_file_read(&mg_fs_flash, fs_flash_state.files[i].name);
    mg_free((void *) s.buf);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fs_flash_rec r;
  struct ota_flash f;
  fs_flash_parse(data, size < FS_FLASH_REC_HEAD ? size : FS_FLASH_REC_HEAD, size, size % 2 ? 8 : 1, &r);
  mg_log_set(0);
  memset(s_mem, 0xFF, sizeof(s_mem));
  memcpy(s_mem, data, size < sizeof(s_mem) ? size : sizeof(s_mem));
  if (!ota_flash_ram_init(&f, s_mem, sizeof(s_mem), FUZZ_SECTOR)) return 0;
  f.write_size = size > 0 && (data[0] & 1) ? 8 : 1;
  if (!mg_fs_flash_init(&f, 0)) return 0;
  fuzz_read_all();
  mg_fs_write_atomic(&mg_fs_flash, "/fuzz", data, size < 100 ? size : 100, 0);
  mg_fs_flash.rm("/a");
  if (mg_fs_flash_init(&f, 0)) fuzz_read_all();
  mg_fs_flash_init(NULL, 0);
  return 0;
}
