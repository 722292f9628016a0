#include "CBuildInfo.h"

#ifndef CORRAL_BUILD_REVISION
#define CORRAL_BUILD_REVISION ""
#endif

const char *corral_build_revision(void) { return CORRAL_BUILD_REVISION; }
