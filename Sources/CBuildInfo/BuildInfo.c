#include "CBuildInfo.h"

/* The revision: CORRAL_BUILD_REVISION when the build passes it (scripts/install.sh does, from
 * git, with -Xcc -D), else the one Package.swift read (SwiftPM may reuse a manifest evaluated for
 * an earlier commit when Package.swift itself did not change), else none. */
#if defined(CORRAL_BUILD_REVISION)
#define CORRAL_REVISION CORRAL_BUILD_REVISION
#elif defined(CORRAL_MANIFEST_REVISION)
#define CORRAL_REVISION CORRAL_MANIFEST_REVISION
#else
#define CORRAL_REVISION ""
#endif

const char *corral_build_revision(void) { return CORRAL_REVISION; }
