#include "convert-private.h"
int conv_epub(conv *c) { return kho_error_set(KHO_EINVALID, "%p", (void*)c); }
