/* tritonpack.h compiles alone as C99 (-Wall -Wextra -Werror -Wpedantic): built, never run. */
#include "tritonpack/tritonpack.h"

int tp_header_alone_c(void);
int tp_header_alone_c(void) { return tp_int(TP_VERSION_MAJOR).kind == TP_ARG_INT; }
