// Platform seam: standard headers and the few build options the core has.
// Everything OS-specific lives in core/port and core/net; the rest is plain C99.
#ifndef MG_ARCH_H
#define MG_ARCH_H

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// Mongoose's architecture names, so that -DMG_ARCH=... and #if MG_ARCH == ... build.
// Meerkat itself has two ports (below); MG_ARCH names the one in use: MG_ARCH_UNIX
// on POSIX hosts, MG_ARCH_NEWLIB on bare metal with newlib (arm-none-eabi-gcc),
// MG_ARCH_CUSTOM on other bare metal. Setting MG_ARCH to anything but UNIX or
// WIN32 selects the bare-metal port; the other names only inform the application.
#define MG_ARCH_CUSTOM 0
#define MG_ARCH_UNIX 1
#define MG_ARCH_WIN32 2
#define MG_ARCH_ESP32 3
#define MG_ARCH_ESP8266 4
#define MG_ARCH_FREERTOS 5
#define MG_ARCH_AZURERTOS 6
#define MG_ARCH_ZEPHYR 7
#define MG_ARCH_NEWLIB 8
#define MG_ARCH_CMSIS_RTOS1 9
#define MG_ARCH_TIRTOS 10
#define MG_ARCH_RP2040 11
#define MG_ARCH_ARMCC 12
#define MG_ARCH_CMSIS_RTOS2 13
#define MG_ARCH_RTTHREAD 14
#define MG_ARCH_ARMCGT 15
#if defined(MG_ARCH) && !defined(MG_PORT_BAREMETAL)
#define MG_PORT_BAREMETAL (MG_ARCH != MG_ARCH_UNIX && MG_ARCH != MG_ARCH_WIN32)
#endif

// Port (core/port): where time, random bytes, the log sink and the resolver's
// configuration come from. POSIX on Unix hosts; -DMG_PORT_BAREMETAL=1 on a board
// that supplies the few functions in mg_board.h (the default without an OS).
#ifndef MG_PORT_BAREMETAL
#if defined(__unix__) || defined(__APPLE__)
#define MG_PORT_BAREMETAL 0
#else
#define MG_PORT_BAREMETAL 1
#endif
#endif
#ifndef MG_PORT_POSIX
#define MG_PORT_POSIX (!MG_PORT_BAREMETAL)
#endif
#if MG_PORT_POSIX && MG_PORT_BAREMETAL
#error "choose one port: MG_PORT_POSIX or MG_PORT_BAREMETAL"
#endif
#ifndef MG_ARCH
#if MG_PORT_POSIX
#define MG_ARCH MG_ARCH_UNIX
#elif defined(__NEWLIB__)
#define MG_ARCH MG_ARCH_NEWLIB
#else
#define MG_ARCH MG_ARCH_CUSTOM
#endif
#endif

// Network backend, one per build: OS sockets by default, the built-in TCP/IP stack
// over an Ethernet driver (core/tcpip, -DMG_ENABLE_TCPIP=1), or the in-memory mock (tests).
#ifndef MG_ENABLE_MOCK
#define MG_ENABLE_MOCK 0
#endif
#ifndef MG_ENABLE_TCPIP
#define MG_ENABLE_TCPIP 0
#endif
#ifndef MG_ENABLE_SOCKET
#define MG_ENABLE_SOCKET (!MG_ENABLE_MOCK && !MG_ENABLE_TCPIP)
#endif
#if MG_ENABLE_MOCK + MG_ENABLE_TCPIP + MG_ENABLE_SOCKET != 1
#error "one network backend per build: MG_ENABLE_SOCKET, MG_ENABLE_TCPIP or MG_ENABLE_MOCK"
#endif

// Readiness API for the socket backend: epoll on Linux, poll() elsewhere.
// Build with -DMG_ENABLE_EPOLL=0 to use poll() on Linux too.
#ifndef MG_ENABLE_EPOLL
#if defined(__linux__)
#define MG_ENABLE_EPOLL 1
#else
#define MG_ENABLE_EPOLL 0
#endif
#endif

// TLS with mbedTLS 3.6 (core/tls): build with -DMG_ENABLE_TLS=1 and mbedTLS's headers
// and libraries (the Makefile fetches and builds them). Without it, https/wss/mqtts
// listeners are refused with a log line and mg_tls_init() fails the connection.
// Mongoose's switch says the same: -DMG_TLS=MG_TLS_MBED (or MG_TLS_MBEDTLS) is
// MG_ENABLE_TLS=1, MG_TLS_NONE is 0; mbedTLS is the only TLS library Meerkat has.
#define MG_TLS_NONE 0
#define MG_TLS_MBED 1
#define MG_TLS_MBEDTLS MG_TLS_MBED
#define MG_TLS_OPENSSL 2
#define MG_TLS_BUILTIN 3
#define MG_TLS_CUSTOM 4
#define MG_TLS_WOLFSSL 5  // The numbers are Mongoose 7.22's, for "#if MG_TLS == ..." in programs
#if defined(MG_TLS) && MG_TLS != MG_TLS_NONE && MG_TLS != MG_TLS_MBED
#error "MG_TLS: Meerkat has no built-in, OpenSSL, wolfSSL or custom TLS backend; its TLS is mbedTLS 3.6: build with -DMG_TLS=MG_TLS_MBED (or MG_TLS_NONE for no TLS)"
#endif
#ifndef MG_ENABLE_TLS
#if defined(MG_TLS)
#define MG_ENABLE_TLS (MG_TLS == MG_TLS_MBED)
#else
#define MG_ENABLE_TLS 0
#endif
#endif
#ifndef MG_TLS
#define MG_TLS (MG_ENABLE_TLS ? MG_TLS_MBED : MG_TLS_NONE)
#endif
// A TLS handshake that has not finished after this long is closed with an error
#ifndef MG_TLS_HANDSHAKE_TIMEOUT_MS
#define MG_TLS_HANDSHAKE_TIMEOUT_MS 10000
#endif
// Server handshakes that hold mbedTLS's state at once (about 36 KiB each), in every
// manager together: never more. Others wait in line without it, reading nothing (about
// 540 bytes each with their connection), and start as slots free (core/README.md, TLS)
#ifndef MG_TLS_MAX_HANDSHAKES
#define MG_TLS_MAX_HANDSHAKES (MG_PORT_BAREMETAL ? 4 : 64)
#endif
// A handshake that has held its slot this long may be closed to give the slot to a
// waiting one whose peer has spoken: stalled peers cannot lock others out. A live one
// is done in a few round trips on a host; a board's own share of it takes seconds
#ifndef MG_TLS_HANDSHAKE_STALL_MS
#define MG_TLS_HANDSHAKE_STALL_MS (MG_PORT_BAREMETAL ? 2000 : 500)
#endif

#ifndef MG_ENABLE_POSIX_FS
#define MG_ENABLE_POSIX_FS 1
#endif

// mg_crc32's tables: 1 (1 KiB, a byte a step) on devices, 8 (8 KiB, six times faster) on hosts;
// 0: a 64-byte table, a nibble a step (a third of 1's speed)
#ifndef MG_CRC32_SLICES
#define MG_CRC32_SLICES (MG_PORT_BAREMETAL ? 1 : 8)
#endif

// Test builds only: mg_alloc_fail_after() makes a chosen allocation fail (needs glibc)
#ifndef MG_ENABLE_ALLOC_FAULTS
#define MG_ENABLE_ALLOC_FAULTS 0
#endif

// %e, %f and %g in mg_snprintf and the rest; 0 leaves them out (1.8 KB of a Cortex-M's
// flash with the 64-bit division they need) and they print nothing
#ifndef MG_ENABLE_PRINTF_FLOAT
#define MG_ENABLE_PRINTF_FLOAT 1
#endif

// IPv6 addresses parsed (mg_aton, URLs) and printed in RFC 5952's short form; 0 (Mongoose's
// default, for programs that never see one: the built-in stack has no IPv6) refuses them
// and prints the eight groups plainly
#ifndef MG_ENABLE_IPV6
#define MG_ENABLE_IPV6 1
#endif

#ifndef MG_ENABLE_LOG
#define MG_ENABLE_LOG 1
#endif

// Size of c->data, free for the application.
#ifndef MG_DATA_SIZE
#define MG_DATA_SIZE 32
#endif

// Receive buffers grow in steps of this many bytes and never beyond MG_MAX_RECV_SIZE.
#ifndef MG_IO_SIZE
#define MG_IO_SIZE 2048
#endif
#ifndef MG_MAX_RECV_SIZE
#define MG_MAX_RECV_SIZE (3UL * 1024 * 1024)
#endif

// A streamed HTTP body (mg_http_stream_body) whose reads fill the receive buffer is read
// in steps of up to this many bytes: fewer reads and chunks make bulk uploads fast, and
// the connection then holds its request head and at most this much more (in whole
// MG_IO_SIZE blocks, as receive buffers grow).
#ifndef MG_HTTP_STREAM_ROOM
#define MG_HTTP_STREAM_ROOM (16UL * MG_IO_SIZE)
#endif

// The largest UDP datagram a connection receives whole (never more than
// MG_MAX_RECV_SIZE): a UDP read first makes this much room, and a larger datagram
// is dropped with an error log line, never delivered cut. 1500, an Ethernet MTU,
// holds any datagram that crosses Ethernet unfragmented (DNS, CoAP, mDNS, SNTP and
// syslog keep under it) and fits in a spare buffer of the default MG_IO_SIZE, so
// UDP reads take no allocation; raise it (up to 65507) for larger datagrams, and
// each UDP read then allocates that much.
#ifndef MG_UDP_MAX
#define MG_UDP_MAX 1500
#endif

// Empty I/O buffers the manager keeps for reuse: connections give their buffers
// back as soon as they are empty, and a busy loop takes them again without
// going to the heap (whose top would otherwise shrink and grow per request)
#ifndef MG_IO_SPARES
#define MG_IO_SPARES 8
#endif

// A connection stops reading while its send buffer holds more than this (back-pressure).
#ifndef MG_MAX_SEND_QUEUE
#define MG_MAX_SEND_QUEUE (256UL * 1024)
#endif

// One flush writes at most this much of a connection's output; the rest goes in the
// next loop pass, which comes at once (the socket is still writable). A peer that reads
// as fast as loopback goes, and whose handler refills c->send as it drains (a served
// file), otherwise keeps the loop on its connection until the kernel's buffers are full.
#ifndef MG_IO_FLUSH_MAX
#define MG_IO_FLUSH_MAX (64UL * 1024)
#endif

// A connection that closes after answering keeps reading (and dropping) what its peer
// still sends for up to this long, so the peer reads the answer instead of a reset
#ifndef MG_LINGER_MS
#define MG_LINGER_MS 1000
#endif

// Longest file path handled (a request path once decoded, a root joined to it, a
// packed file's name); mg_http_serve_dir answers longer request paths with 414.
// Buffers of this size sit on the stack, about four deep when serving a file:
// hosts take Linux's PATH_MAX, as web servers do; boards keep it small.
// HTTP replies carry a Date header (RFC 9110 6.6.1) when the port has a wall clock
#ifndef MG_ENABLE_DATE
#define MG_ENABLE_DATE 1
#endif

#ifndef MG_PATH_MAX
#if MG_PORT_POSIX
#define MG_PATH_MAX 4096
#else
#define MG_PATH_MAX 256
#endif
#endif

#define MG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif  // MG_ARCH_H
