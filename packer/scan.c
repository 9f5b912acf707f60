// Finding the files to pack: a recursive walk of each input directory, the
// mapping from file names to table paths, exclusions, and reading contents.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "meerkat.h"
#include "packer.h"

// The directories being walked, innermost first, to refuse symlink loops
struct pack_ancestor {
  dev_t dev;
  ino_t ino;
  const struct pack_ancestor *up;
};

static void *pack_xrealloc(void *p, size_t n) {
  p = realloc(p, n);
  if (p == NULL) {
    fprintf(stderr, "packer: out of memory\n");
    exit(1);
  }
  return p;
}

static char *pack_join(const char *a, const char *b) {
  size_t na = strlen(a), nb = strlen(b);
  char *s = (char *) pack_xrealloc(NULL, na + nb + 2);
  memcpy(s, a, na);
  s[na] = '/';
  memcpy(s + na + 1, b, nb + 1);
  return s;
}

// A glob with a '/' matches the whole table path, one without matches the last
// segment ("*.map", ".DS_Store"). '*' crosses '/' (no FNM_PATHNAME).
bool pack_glob_any(const char **globs, size_t count, const char *path) {
  const char *base = strrchr(path, '/');
  base = base == NULL ? path : base + 1;
  for (size_t i = 0; i < count; i++) {
    if (fnmatch(globs[i], strchr(globs[i], '/') != NULL ? path : base, 0) == 0) return true;
  }
  return false;
}

// rel is "/sub/name" below the input directory; -s drops a leading prefix of whole segments
static const char *pack_table_path(const struct pack_opts *opts, const char *rel) {
  size_t n = strlen(opts->strip);
  if (n > 0 && strncmp(rel, opts->strip, n) == 0 && rel[n] == '/') return rel + n;
  return rel;
}

// Packed tables are looked up on boards, whose MG_PATH_MAX defaults to 256 whatever
// the host's is (mg_arch.h)
#define PACK_PATH_MAX 256

static bool pack_add_file(const struct pack_opts *opts, const char *src, const char *path,
                          const struct stat *st, struct pack_list *list) {
  if (strchr(path, '\\') != NULL) {
    fprintf(stderr, "packer: %s: a backslash in the name cannot be looked up (it reads as '/')\n", src);
    return false;
  }
  if (strlen(path) >= PACK_PATH_MAX) {
    fprintf(stderr, "packer: %s: table path is %zu bytes, the limit is %d (a board's MG_PATH_MAX - 1)\n", src,
            strlen(path), PACK_PATH_MAX - 1);
    return false;
  }
  if ((unsigned long long) st->st_size > opts->max_size) {
    fprintf(stderr, "packer: %s: %lld bytes, over the limit of %llu (-l)\n", src, (long long) st->st_size,
            opts->max_size);
    return false;
  }
  if (list->count == list->cap) {
    list->cap = list->cap == 0 ? 64 : list->cap * 2;
    list->files = (struct pack_file *) pack_xrealloc(list->files, list->cap * sizeof(*list->files));
  }
  struct pack_file *f = &list->files[list->count++];
  memset(f, 0, sizeof(*f));
  f->path = pack_xrealloc(NULL, strlen(path) + 1);
  strcpy(f->path, path);
  f->source = pack_xrealloc(NULL, strlen(src) + 1);
  strcpy(f->source, src);
  f->mtime = opts->keep_mtime ? (long long) st->st_mtime : 0;
  return true;
}

static bool pack_walk(const struct pack_opts *opts, const char *src, const char *rel,
                      const struct pack_ancestor *up, struct pack_list *list);

static bool pack_visit(const struct pack_opts *opts, const char *src, const char *rel,
                       const struct pack_ancestor *up, struct pack_list *list) {
  struct stat st;
  if (stat(src, &st) != 0) {  // Also a symlink to nowhere
    fprintf(stderr, "packer: %s: %s\n", src, strerror(errno));
    return false;
  }
  const char *path = pack_table_path(opts, rel);
  if (pack_glob_any(opts->exclude, opts->exclude_count, path)) return true;
  if (S_ISDIR(st.st_mode)) {
    for (const struct pack_ancestor *a = up; a != NULL; a = a->up) {
      if (a->dev == st.st_dev && a->ino == st.st_ino) {
        fprintf(stderr, "packer: %s: directory loop (a symlink to a parent?)\n", src);
        return false;
      }
    }
    struct pack_ancestor self = {st.st_dev, st.st_ino, up};
    return pack_walk(opts, src, rel, &self, list);
  }
  if (!S_ISREG(st.st_mode)) {
    fprintf(stderr, "packer: %s: skipped, not a regular file\n", src);
    return true;
  }
  return pack_add_file(opts, src, path, &st, list);
}

static bool pack_walk(const struct pack_opts *opts, const char *src, const char *rel,
                      const struct pack_ancestor *up, struct pack_list *list) {
  DIR *dir = opendir(src);
  if (dir == NULL) {
    fprintf(stderr, "packer: %s: %s\n", src, strerror(errno));
    return false;
  }
  bool ok = true;
  struct dirent *e;
  errno = 0;
  while (ok && (e = readdir(dir)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char *child_src = pack_join(src, e->d_name), *child_rel = pack_join(rel, e->d_name);
    ok = pack_visit(opts, child_src, child_rel, up, list);
    free(child_src);
    free(child_rel);
    errno = 0;
  }
  if (ok && errno != 0) {
    fprintf(stderr, "packer: %s: %s\n", src, strerror(errno));
    ok = false;
  }
  closedir(dir);
  return ok;
}

// The table path of DIR itself (files are below it): "" normally; with -M the
// directory as named, as Mongoose's pack names files: "./web/" is "/web"
static bool pack_dir_path(const struct pack_opts *opts, const char *src, char **rel) {
  const char *s = src;
  *rel = pack_xrealloc(NULL, strlen(src) + 2);
  (*rel)[0] = '\0';
  if (!opts->mongoose) return true;
  for (;;) {  // Leading "/" and "./" segments
    if (s[0] == '/') s++;
    else if (s[0] == '.' && (s[1] == '/' || s[1] == '\0')) s++;
    else break;
  }
  if (*s != '\0') snprintf(*rel, strlen(src) + 2, "/%s", s);
  char check[MG_PATH_MAX];
  size_t n = strlen(*rel);
  if (n == 0) return true;
  if (n >= sizeof(check)) return false;
  memcpy(check, *rel, n + 1);
  // Normalised it must stay the same: no "..", ".", "//" for a lookup to miss
  return mg_path_normalize(check, n) && strcmp(check, *rel) == 0;
}

bool pack_scan_dir(const struct pack_opts *opts, const char *dir, struct pack_list *list) {
  char *rel = NULL;
  char *src = pack_xrealloc(NULL, strlen(dir) + 1);
  strcpy(src, dir);
  for (size_t n = strlen(src); n > 1 && src[n - 1] == '/'; n--) src[n - 1] = '\0';
  struct stat st;
  bool ok = false;
  if (stat(src, &st) != 0) {
    fprintf(stderr, "packer: %s: %s\n", src, strerror(errno));
  } else if (!S_ISDIR(st.st_mode)) {
    fprintf(stderr, "packer: %s: not a directory\n", src);
  } else if (!pack_dir_path(opts, src, &rel)) {
    fprintf(stderr, "packer: %s: -M keeps the directory in table paths, but this name holds '..',"
                    " '.' or '//' that a lookup would normalise away (run the packer from above it)\n", src);
  } else {
    struct pack_ancestor self = {st.st_dev, st.st_ino, NULL};
    ok = pack_walk(opts, src, rel, &self, list);
  }
  free(rel);
  free(src);
  return ok;
}

static int pack_by_path(const void *a, const void *b) {
  return strcmp(((const struct pack_file *) a)->path, ((const struct pack_file *) b)->path);
}

// Sorted as the core's binary search expects; the same path twice is an error
bool pack_sort_and_check(struct pack_list *list) {
  if (list->count > 1) qsort(list->files, list->count, sizeof(*list->files), pack_by_path);
  for (size_t i = 1; i < list->count; i++) {
    if (strcmp(list->files[i - 1].path, list->files[i].path) == 0) {
      fprintf(stderr, "packer: duplicate path %s: %s and %s\n", list->files[i].path, list->files[i - 1].source,
              list->files[i].source);
      return false;
    }
  }
  return true;
}

bool pack_read_file(const struct pack_opts *opts, struct pack_file *f) {
  int fd = open(f->source, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "packer: %s: %s\n", f->source, strerror(errno));
    return false;
  }
  size_t cap = 4096, len = 0;
  unsigned char *buf = pack_xrealloc(NULL, cap);
  for (;;) {
    if (len == cap) buf = pack_xrealloc(buf, cap *= 2);
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      fprintf(stderr, "packer: %s: %s\n", f->source, strerror(errno));
      break;
    }
    if (n == 0) {
      close(fd);
      f->data = buf, f->size = f->raw_size = len;
      return true;
    }
    len += (size_t) n;
    if (len > opts->max_size) {  // It grew since the walk looked at it
      fprintf(stderr, "packer: %s: over the limit of %llu bytes (-l)\n", f->source, opts->max_size);
      break;
    }
  }
  close(fd);
  free(buf);
  return false;
}

void pack_list_free(struct pack_list *list) {
  for (size_t i = 0; i < list->count; i++) {
    free(list->files[i].path);
    free(list->files[i].source);
    free(list->files[i].data);
  }
  free(list->files);
  list->files = NULL;
  list->count = list->cap = 0;
}
