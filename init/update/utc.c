/*
 * utc.c: seconds since the epoch as "YYYY-MM-DD HH:MM:SS UTC", for the
 * manifest's times and the expiry message.
 *
 * Not gmtime_r and strftime: through them musl links its time zone code
 * (TZ parsing, about 8 KiB of a 96 KiB program) for a conversion that is
 * plain arithmetic in UTC (civil_from_days, H. Hinnant).
 */
#include "update.h"

#include <stdio.h>

const char *upd_utc(uint64_t t, char buf[UPD_UTC_LEN])
{
	uint64_t days = t / 86400, secs = t % 86400;
	uint64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	uint64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
	uint64_t y = yoe + era * 400 + (m <= 2);

	snprintf(buf, UPD_UTC_LEN, "%04llu-%02u-%02u %02u:%02u:%02u UTC", (unsigned long long)y,
		 (unsigned)m, (unsigned)d, (unsigned)(secs / 3600), (unsigned)(secs / 60 % 60),
		 (unsigned)(secs % 60));
	return buf;
}
