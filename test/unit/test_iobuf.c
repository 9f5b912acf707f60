// mg_iobuf: growth in align steps, insert/delete anywhere, shrink to nothing.
#include <criterion/criterion.h>
#include "meerkat.h"

Test(iobuf, grows_in_align_steps_and_keeps_order) {
  struct mg_iobuf io;
  cr_assert(mg_iobuf_init(&io, 0, 16));
  cr_assert_null(io.buf);
  cr_assert_eq(mg_iobuf_add(&io, 0, "world", 5), 5);
  cr_assert_eq(io.size, 16);
  cr_assert_eq(mg_iobuf_add(&io, 0, "hello ", 6), 6);
  cr_assert_eq(mg_iobuf_add(&io, io.len, "!", 1), 1);
  cr_assert_eq(io.len, 12);
  cr_assert_arr_eq(io.buf, "hello world!", 12);
  cr_assert_eq(mg_iobuf_del(&io, 0, 6), 6);
  cr_assert_arr_eq(io.buf, "world!", 6);
  cr_assert_eq(mg_iobuf_del(&io, 3, 100), 3);
  cr_assert_arr_eq(io.buf, "wor", 3);
  cr_assert_eq(mg_iobuf_del(&io, 3, 1), 0);
  mg_iobuf_free(&io);
  cr_assert_null(io.buf);
  cr_assert_eq(io.size, 0);
}

Test(iobuf, resize_below_len_trims_and_zero_frees) {
  struct mg_iobuf io;
  cr_assert(mg_iobuf_init(&io, 100, 0));
  mg_iobuf_add(&io, 0, NULL, 10);  // NULL inserts zeros
  cr_assert_eq(io.buf[9], 0);
  cr_assert(mg_iobuf_resize(&io, 5));
  cr_assert_eq(io.size, 5);
  cr_assert_eq(io.len, 5);
  cr_assert(mg_iobuf_resize(&io, 0));
  cr_assert_null(io.buf);
  cr_assert_eq(io.len, 0);
}

Test(iobuf, add_past_len_zero_fills_and_insert_in_the_middle) {
  struct mg_iobuf io;
  cr_assert(mg_iobuf_init(&io, 0, 4));
  cr_assert_eq(mg_iobuf_add(&io, 2, "ab", 2), 2);
  cr_assert_eq(io.len, 4);
  cr_assert_arr_eq(io.buf, "\0\0ab", 4);
  cr_assert_eq(io.size, 4);
  cr_assert_eq(mg_iobuf_add(&io, 3, "XY", 2), 2);
  cr_assert_arr_eq(io.buf, "\0\0aXYb", 6);
  cr_assert_eq(io.size, 8);
  mg_iobuf_free(&io);
}

Test(iobuf, failed_add_leaves_the_buffer_alone) {
  struct mg_iobuf io;
  cr_assert(mg_iobuf_init(&io, 0, 0));
  mg_iobuf_add(&io, 0, "x", 1);
  cr_assert_eq(mg_iobuf_add(&io, SIZE_MAX, "y", 1), 0, "ofs + len overflows");
  cr_assert_eq(mg_iobuf_add(&io, SIZE_MAX / 2, "y", SIZE_MAX / 2 + 2), 0, "gap + len overflows");
  cr_assert_eq(io.len, 1);
  cr_assert_eq(io.buf[0], 'x');
  mg_iobuf_free(&io);
}

Test(iobuf, align_rounding_that_would_overflow_fails) {
  struct mg_iobuf io;
  cr_assert(mg_iobuf_init(&io, 0, 4096));
  cr_assert_not(mg_iobuf_resize(&io, SIZE_MAX - 10));
  cr_assert_null(io.buf);
}

Test(iobuf, refuses_size_overflow) {
  struct mg_iobuf io;
  cr_assert(mg_iobuf_init(&io, 0, 0));
  mg_iobuf_add(&io, 0, "x", 1);
  cr_assert_eq(mg_iobuf_add(&io, 0, "y", SIZE_MAX), 0);
  cr_assert_eq(io.len, 1);
  mg_iobuf_free(&io);
}
