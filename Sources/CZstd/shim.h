#ifndef KYMO_CZSTD_SHIM_H
#define KYMO_CZSTD_SHIM_H
#include <zstd.h>
#endif
