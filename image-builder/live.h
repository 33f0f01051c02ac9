/* live.h: what ROOT carries for the live media (live.c): the spec's images and an empty
 * ext4 for the live boot's /var/lib/wisp. Apart from image-builder.h, which is at its size
 * limit (make include-check). */
#ifndef WISP_IB_LIVE_H
#define WISP_IB_LIVE_H

#include "image-builder.h"

/* Where ROOT carries the spec's images for a live boot (read by provision's imgimport.c
 * and the image-import helper). */
#define IB_LIVE_IMAGES "/usr/share/wisp/images"
/* The empty ext4 that a live boot's init grows in RAM for /var/lib/wisp. */
#define IB_LIVE_STORE "/usr/share/wisp/live-store.ext4"

/* Add IB_LIVE_STORE (made into store_file) and every images[].archive (and the .name of
 * those with images[].name) under IB_LIVE_IMAGES to ROOT's manifest, in spec order. */
int ib_live_files(struct ib_manifest *m, const struct ib_spec *spec, const char *store_file,
		  time_t epoch, const char *origin, struct ib_err *err);

#endif /* WISP_IB_LIVE_H */
