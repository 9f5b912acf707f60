// Meerkat: an event-driven networking library for devices.
// This header is the whole public API; it includes the module headers in layer order.
#ifndef MEERKAT_H
#define MEERKAT_H

#define MG_VERSION "7.22"      // The Mongoose release whose API and behaviour Meerkat matches
#define MEERKAT_VERSION "0.1.0"  // Meerkat's own

#include "mg_arch.h"
#if MG_PORT_BAREMETAL
#include "mg_board.h"
#endif
#include "mg_str.h"
#include "mg_iobuf.h"
#include "mg_printf.h"
#include "mg_queue.h"
#include "mg_log.h"
#include "mg_timer.h"
#include "mg_util.h"
#include "mg_json.h"
#include "mg_rpc.h"
#include "mg_url.h"
#include "mg_net.h"
#include "mg_tcpip.h"
#include "mg_sntp.h"
#include "mg_tls.h"
#include "mg_dns.h"
#include "mg_fs.h"
#include "mg_http.h"
#include "mg_ws.h"
#include "mg_mqtt.h"
#include "mg_dash.h"
#include "mg_auth.h"

#endif  // MEERKAT_H
