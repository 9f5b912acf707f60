// Mongoose 7 compatibility, built the way a Mongoose user builds: against
// dist/mongoose.h and dist/meerkat.c alone. Each case pins one documented behaviour.
#include <criterion/criterion.h>
#include "mongoose.h"

Test(compat_core, mg_addr_has_the_addr_union) {
  struct mg_addr a;
  memset(&a, 0, sizeof(a));
  cr_assert(mg_aton(mg_str("10.0.0.1"), &a));
  cr_assert_eq(a.addr.ip[0], 10);
  cr_assert_eq(a.addr.ip4, mg_htonl(0x0a000001));
  cr_assert_eq(a.addr.ip4, MG_IPV4(10, 0, 0, 1));
  cr_assert_eq(MG_U32(10, 0, 0, 1), 0x0a000001u);
  cr_assert(mg_aton(mg_str("::1"), &a));
  cr_assert(a.is_ip6);
  cr_assert_eq(a.addr.ip[15], 1);
  cr_assert_eq(a.addr.ip6[0], 0);
}

Test(compat_core, base64url_encode_and_decode) {
  char enc[16], dec[16];
  cr_assert_eq(mg_base64url_encode((const unsigned char *) "\xfb\xff", 2, enc, sizeof(enc)), 3);
  cr_assert_str_eq(enc, "-_8");
  cr_assert_eq(mg_base64url_decode(enc, 3, dec, sizeof(dec)), 2);
  cr_assert_eq(memcmp(dec, "\xfb\xff", 2), 0);
}

// Event numbers as 7.22 has them: programs log them, store them and name the type
Test(compat_core, event_numbers_and_the_enum_tag_are_mongoose_s) {
  enum mg_event first = MG_EV_ERROR;
  cr_assert_eq(first, 0);
  cr_assert_eq(MG_EV_HTTP_MSG, 11);
  cr_assert_eq(MG_EV_WS_OPEN, 12);
  cr_assert_eq(MG_EV_WS_MSG, 13);
  cr_assert_eq(MG_EV_WS_CTL, 14);
  cr_assert_eq(MG_EV_MQTT_CMD, 15);
  cr_assert_eq(MG_EV_MQTT_MSG, 16);
  cr_assert_eq(MG_EV_MQTT_OPEN, 17);
  cr_assert_eq(MG_EV_SNTP_TIME, 18);
  cr_assert_eq(MG_EV_WAKEUP, 19);
  cr_assert_eq(MG_EV_MDNS_REQ, 20);
  cr_assert_eq(MG_EV_MDNS_RESP, 21);
  cr_assert_eq(MG_EV_MODBUS_REQ, 22);
  cr_assert_gt(MG_EV_USER, MG_EV_MODBUS_REQ, "application events come after every library event");
  cr_assert_gt(MG_EV_USER, MG_EV_HTTP_CHUNK);
}
