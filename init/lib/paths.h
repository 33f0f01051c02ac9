/*
 * lib/paths.h: the files through which PID 1 and provision speak
 * (docs/provisioning.md). Provision writes them; PID 1 reads only the
 * declarations (after provision has validated them) and hands the report
 * to `wispctl config` as text.
 */
#ifndef WISP_LIB_PATHS_H
#define WISP_LIB_PATHS_H

/* What cloud-init found, applied and warned about this boot (`wispctl config`). */
#define CLOUD_REPORT "/run/wisp/cloud-init.report"
/* The unit of the boot's image import; containers wait for it (imgimport.c). */
#define IMAGE_IMPORT "image-import"
/* Declarations written by provision: the second of PID 1's two unit directories. */
#define CLOUD_UNITS "/run/wisp/units"
/* The console's level while PID 1 relays the kernel's records (pid1/klog.c): provision's
 * lines below it reach the console through the relay, the others it writes itself. */
#define KLOG_LEVEL_DIR	"/run/wisp"
#define KLOG_LEVEL_FILE "/run/wisp/console-level"

#endif /* WISP_LIB_PATHS_H */
