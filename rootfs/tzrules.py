#!/usr/bin/env python3
"""Write the time zone table of ROOT (/usr/share/wisp/tzrules): one line per zone of
Debian's tzdata, "NAME RULE", RULE being the POSIX TZ string in the footer of the
zone's TZif file (version 2 and later end with "\\nRULE\\n"). provision looks a
cloud-config timezone name up in it (init/provision/tzrules.c); musl takes the rule
as TZ. Links (US/Eastern, Etc/UTC) are zones of their own here. Zones whose footer is
empty (no rule) are left out; so are posix/, right/ (leap seconds) and the tables.

  rootfs/tzrules.py /usr/share/zoneinfo OUT
"""

import os
import sys

MAX_RULE = 150  # tzrules.c reads lines of 256 bytes with the name


def footer(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"TZif" or data[4:5] < b"2" or not data.endswith(b"\n"):
        return None
    rule = data[data.rindex(b"\n", 0, len(data) - 1) + 1:-1]
    return rule.decode("ascii") if rule else None


def main():
    top, out = sys.argv[1], sys.argv[2]
    lines = []
    for dirpath, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if dirpath != top or d not in ("posix", "right"))
        for name in files:
            path = os.path.join(dirpath, name)
            zone = os.path.relpath(path, top)
            if zone in ("localtime", "posixrules", "Factory"):
                continue
            rule = footer(path)
            if rule is None:
                continue
            if len(rule) > MAX_RULE or any(c in rule for c in " \t\"'\\$`"):
                sys.exit("tzrules: %s: rule %r does not fit Wisp's table" % (path, rule))
            lines.append("%s %s\n" % (zone, rule))
    if not lines:
        sys.exit("tzrules: no TZif zone under %s (is tzdata installed?)" % top)
    lines.sort()
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.writelines(lines)
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
