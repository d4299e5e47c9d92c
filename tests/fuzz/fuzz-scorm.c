/*
 * fuzz-scorm.c — feeds arbitrary bytes as the zip file of a SCORM package
 * (imsmanifest.xml, organisations, resources, LOM metadata) to the importer,
 * which parses and converts it as far as kho pack convert would, without
 * writing anything (kho_convert_check_buffer). Whatever converts must give a
 * manifest that kho's own parser accepts (the dry run checks it) and at
 * least one lesson.
 */
#include <stdlib.h>

#include "kho_convert.h"
#include "fuzz-target.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	kho_log_set_level(KHO_LOG_ERROR);
	if (kho_crypto_init() != KHO_OK)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kho_convert_report report = { 0 };
	int rc = kho_convert_check_buffer(&report, data, size, "fuzz.zip", KHO_FORMAT_SCORM12);
	if (rc == KHO_OK && (!report.pack_id || !report.title || !report.lessons))
		abort();
	kho_convert_report_free(&report);
	kho_error_clear();
	return 0;
}
