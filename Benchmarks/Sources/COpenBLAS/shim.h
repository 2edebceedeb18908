#ifndef KYMO_COPENBLAS_SHIM_H
#define KYMO_COPENBLAS_SHIM_H
#include <cblas.h>
#endif
