/*
 * The libFuzzer entry point; FUZZ_TARGET names the function of targets.c
 * to drive (-DFUZZ_TARGET=fuzz_jsonrec and so on, see Makefile.am).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "tests/fuzz/targets.h"

#ifndef FUZZ_TARGET
#error "FUZZ_TARGET must name a target, e.g. -DFUZZ_TARGET=fuzz_jsonrec"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return FUZZ_TARGET(data, size);
}
