// The flash filesystem's record format (fs_flash_log.c) and what its mg_fs functions
// (fs_flash.c) share: the mounted state, one per program, as mg_fs has no context.
#ifndef FS_FLASH_H
#define FS_FLASH_H
#include "meerkat.h"
#include "ota/ota_flash.h"

// A record, little-endian: magic "MKFR", kind, name length, 2 zero bytes, sequence,
// data length, data CRC-32, the name NUL-padded to FS_FLASH_NAME_FIELD bytes, then a
// CRC-32 of all before it. The data follows at the next program unit; a record ends on one.
#define FS_FLASH_NAME_FIELD (MG_FS_FLASH_NAME_MAX + 1)
#define FS_FLASH_REC_HEAD (20 + FS_FLASH_NAME_FIELD + 4)
// A half starts with magic "MKFS", format, 3 zero bytes, epoch, CRC-32 of the 12 before
#define FS_FLASH_HALF_HEAD 16
// Program units up to this are supported: the staging buffer's size
#define FS_FLASH_UNIT_MAX 128
enum { FS_FLASH_WRITE = 1, FS_FLASH_REMOVE = 2, FS_FLASH_RENAME = 3 };  // A rename's data is the old name
enum { FS_FLASH_BAD = -1, FS_FLASH_END = 0, FS_FLASH_RECORD = 1 };

struct fs_flash_rec {
  int kind;
  char name[FS_FLASH_NAME_FIELD];
  uint32_t seq, len, data_crc;
  size_t size;  // Bytes on flash, header and data each rounded up to program units
};

// Pure: the record header in hdr (hdr_len bytes: FS_FLASH_REC_HEAD, or fewer when room
// is shorter), room the bytes left in the half from the record's start, unit the program
// unit. FS_FLASH_END: erased (the log's end); FS_FLASH_BAD: torn, damaged, or longer
// than room; FS_FLASH_RECORD: r is filled (its data CRC is the caller's to check).
int fs_flash_parse(const uint8_t *hdr, size_t hdr_len, size_t room, size_t unit, struct fs_flash_rec *r);
// The header of r into out (FS_FLASH_REC_HEAD bytes)
void fs_flash_encode(const struct fs_flash_rec *r, uint8_t *out);
size_t fs_flash_round(size_t n, size_t unit);

struct fs_flash_file {  // A live file: its newest record in the active half
  char name[FS_FLASH_NAME_FIELD];
  uint32_t seq, len, data_crc;
  size_t off;  // Of the data in the active half
};

struct fs_flash {
  struct ota_flash *f;
  int slot, active;     // The slot holding both halves; the half in use (0, 1)
  size_t half, unit;    // Bytes per half; the program unit
  size_t start, end;    // Offsets in a half: the first record, where the next one goes
  uint32_t epoch, seq;  // The active half's; the next record's
  struct fs_flash_file files[MG_FS_FLASH_FILES];
  size_t nfiles;
  bool mounted;
};
extern struct fs_flash fs_flash_state;

struct fs_flash_file *fs_flash_find(const char *name);
// One whole file, or a removal or a rename, as one record (compacting when the active
// half is full); false with a log line when it cannot be done, and nothing changed.
bool fs_flash_put(const char *name, const void *buf, size_t len);
bool fs_flash_remove(const char *name);
bool fs_flash_rename(const char *from, const char *to);
bool fs_flash_read_at(const struct fs_flash_file *file, size_t pos, void *buf, size_t len);
bool fs_flash_mount(struct ota_flash *f, int slot);
bool fs_flash_name_ok(const char *name);

#endif  // FS_FLASH_H
