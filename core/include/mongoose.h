// Compatibility name: code written against the seed architecture includes mongoose.h.
#ifndef MONGOOSE_H
#define MONGOOSE_H
#include "meerkat.h"
#endif
