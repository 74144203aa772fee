/* gw_console_internal.h — the table of console files, generated at build time from
 * gateway/console/ by gateway/console/embed.py (the data lives in the generated C file). */
#ifndef YC_GW_CONSOLE_INTERNAL_H
#define YC_GW_CONSOLE_INTERNAL_H
#include "gateway/gw_console.h"

extern const gw_console_file_t gw_console_files[];
extern const size_t gw_console_nfiles;

#endif
