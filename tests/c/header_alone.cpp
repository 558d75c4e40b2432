// tritonpack.h compiles alone as C++11 (-Wall -Wextra -Werror -Wpedantic): built, never run.
#include "tritonpack/tritonpack.h"

int tp_header_alone_cxx();
int tp_header_alone_cxx() { return tp_constexpr_none("BIAS").kind == TP_CONSTEXPR_NONE; }
