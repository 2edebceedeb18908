// CStreaming is header-only (static inline functions in include/kymo_streaming.h); a C target
// needs one source file.
#include "kymo_streaming.h"
