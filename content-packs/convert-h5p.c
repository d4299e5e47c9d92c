#include "convert-private.h"
int conv_h5p(conv *c) { return kho_error_set(KHO_EINVALID, "%p", (void*)c); }
