// Path normalisation shared by every filesystem and by the HTTP layer: the one
// place that decides what a request path may name.
#include "meerkat.h"

// A request path must stay under the root whatever its spelling. Rewrites
// path[0..len) in place (never writing path[len]): output is never longer than
// the input, and is NUL-terminated when it got shorter, so a NUL-terminated
// input stays a valid C string. Only absolute paths are accepted: the result
// starts with '/' and holds no empty, "." or ".." segments. A trailing '/'
// (or a final "." / "..") is kept as a trailing '/', as it names a directory.
bool mg_path_normalize(char *path, size_t len) {
  if (path == NULL || len == 0) return false;
  for (size_t i = 0; i < len; i++) {
    if (path[i] == '\0') return false;
    if (path[i] == '\\') path[i] = '/';
  }
  if (path[0] != '/') return false;

  // w: end of the output, which is "" or "/seg/seg" (no trailing '/')
  size_t r = 0, w = 0;
  bool dir = false;  // Whether the last segment named a directory
  while (r < len) {
    while (r < len && path[r] == '/') r++;
    size_t start = r;
    while (r < len && path[r] != '/') r++;
    size_t seg = r - start;
    if (seg == 0 || (seg == 1 && path[start] == '.')) {  // "//", "/./" or a trailing '/'
      dir = true;
    } else if (seg == 2 && path[start] == '.' && path[start + 1] == '.') {
      if (w == 0) return false;  // Climbing above the root
      while (w > 0 && path[w - 1] != '/') w--;
      w--;  // Drop the '/' that opened the segment
      dir = true;
    } else {
      // w < start: each segment read so far had at least one '/' before it
      path[w++] = '/';
      memmove(path + w, path + start, seg);
      w += seg;
      dir = false;
    }
  }
  if (w == 0 || dir) path[w++] = '/';
  if (w < len) path[w] = '\0';
  return true;
}
