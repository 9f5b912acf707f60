// What newlib-nano asks of the system underneath, for the few library paths that reach it
// (strtod's internal assert, abort): output to the UART, exit through the board, no files.
#include <errno.h>
#include <sys/stat.h>
#include "meerkat.h"
#include "board.h"

// The prototypes newlib calls, declared here as nothing else declares them
void _exit(int status);
int _write(int fd, const char *buf, int len);
int _read(int fd, char *buf, int len);
int _close(int fd);
int _lseek(int fd, int offset, int whence);
int _fstat(int fd, struct stat *st);
int _isatty(int fd);
int _kill(int pid, int sig);
int _getpid(void);

void _exit(int status) {
  board_exit(status);
  for (;;) continue;
}

int _write(int fd, const char *buf, int len) {
  if (fd != 1 && fd != 2) {
    errno = EBADF;
    return -1;
  }
  for (int i = 0; i < len; i++) mg_board_putchar(buf[i]);
  return len;
}

static int syscalls_none(void) {
  errno = ENOSYS;
  return -1;
}

int _read(int fd, char *buf, int len) {
  (void) fd, (void) buf, (void) len;
  return syscalls_none();
}
int _close(int fd) {
  (void) fd;
  return syscalls_none();
}
int _lseek(int fd, int offset, int whence) {
  (void) fd, (void) offset, (void) whence;
  return syscalls_none();
}
int _fstat(int fd, struct stat *st) {
  (void) fd;
  st->st_mode = S_IFCHR;  // The UART: a character device, so stdio does not buffer whole blocks
  return 0;
}
int _isatty(int fd) {
  return fd <= 2;
}
int _kill(int pid, int sig) {
  (void) pid, (void) sig;
  return syscalls_none();
}
int _getpid(void) {
  return 1;
}
