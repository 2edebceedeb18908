#ifndef KYMO_CZLIB_SHIM_H
#define KYMO_CZLIB_SHIM_H
#include <zlib.h>
#endif
