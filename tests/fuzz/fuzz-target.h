/*
 * fuzz-target.h — the entry points every fuzz target defines. libFuzzer
 * calls them when a target is built with -fsanitize=fuzzer; fuzz-driver.c
 * calls them to replay a corpus when it is not (gcc, ordinary test runs).
 */
#ifndef KHO_FUZZ_TARGET_H
#define KHO_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>

/* Runs once before the first input; returns 0. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Feeds one input to the code under test; returns 0. `data` is never NULL,
 * even when `size` is 0. Must not leak, and must not keep state that makes
 * one input's outcome depend on another's. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
