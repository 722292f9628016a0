#ifndef CORRAL_BUILD_INFO_H
#define CORRAL_BUILD_INFO_H

/// The git revision corral was built from (`3f2a9c1d4e5b`, `-dirty` after it when the checkout
/// had changes), or "" when it was not built from a git checkout. scripts/install.sh passes it;
/// otherwise Package.swift's reading of the checkout is used.
const char *corral_build_revision(void);

#endif
