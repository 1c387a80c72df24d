/*
 * util.h - the utility library every layer uses (cmd, planner, state,
 * providers, tests); it depends on nothing of the project.
 *
 *   err.h    errors carried up to the command, exit codes
 *   buf.h    allocation, strings, growable buffers
 *   file.h   whole-file reads, atomic writes, directories
 *   hash.h   content hashing (xxHash, SHA-256)
 *   clock.h  monotonic and wall clocks
 *   json.h   a strict JSON reader (what other programs write)
 *
 * A module's header that exposes these types includes this one; a .c file
 * may include just the parts it uses.
 */
#ifndef CG_UTIL_H
#define CG_UTIL_H

#include "err.h"
#include "buf.h"
#include "file.h"
#include "hash.h"
#include "clock.h"
#include "json.h"

#endif
