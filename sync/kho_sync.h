/*
 * kho_sync.h — the public interface of kho's sync module.
 *
 * Empty for now. This module will own the static repository format (signed
 * catalog, pack indexes, content-addressed zstd objects), its writer for
 * `kho publish`, its reader and transports (HTTP through libcurl, a local
 * folder, another box) for `kho sync`, delta planning, resumable download,
 * verification, atomic install (through kho_index_install() only) and the
 * outbox sent back to the centre. See ../shared DESIGN.md and the sync issue.
 */
#ifndef KHO_SYNC_H
#define KHO_SYNC_H

#include "kho_core.h"

#endif
