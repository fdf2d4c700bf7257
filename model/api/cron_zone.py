"""Time zones as the CronJob's API server and controller load them (`time.LoadLocation`), and Go's
wall-clock arithmetic in a zone (`time.Date`, `Time.AddDate`) that robfig/cron's `SpecSchedule.Next`
uses (`kubeprop.model.api.cron_schedule`).

The database: Go's embedded one. kube-apiserver and kube-controller-manager import `time/tzdata`
(`cmd/kube-controller-manager/controller-manager.go`: "for CronJob Time Zone support"), and their
distroless images have no `/usr/share/zoneinfo`, so `time.LoadLocation` finds a name in the zip
that Go embeds. Kubernetes v1.33 is built with Go 1.24, whose `lib/time/update.bash` pins tzdata
**2025a** (read in go1.24.11's own tree). The model reads the same IANA data from the `tzdata` PyPI
package — loaded from that package explicitly (`importlib.resources`), never from the host's
`/usr/share/zoneinfo` or `zoneinfo.TZPATH`, so the answer does not depend on the machine. The
pyproject pins `tzdata>=2025.1`, the PyPI release of IANA 2025a.

Names: Go 1.24's zip holds 597 names, exactly the 597 names of `tzdata` 2025.1's `zones` list (the
two lists compared, no name either way: every Zone and Link of the tzdata source files, `backward`'s
old names such as `US/Eastern` and `factory`'s `Factory` included; no `zone.tab`, `posixrules` or
directory). Later `tzdata` releases add names Go 1.24 lacks — up to 2026.6 (IANA 2026f) only
`America/Coyhaique` (2025b) — which the model refuses as Go 1.24 does (`NAMES_AFTER_GO`); no name
was removed. The rules of a zone come from the installed release (2025a or later), so a rule that
IANA changes after 2025a (a country dropping daylight saving time) is the newer one in the model.

`load_location(name)` is Go's LoadLocation (`src/time/zoneinfo.go`, `zoneinfo_read.go`
loadLocation, `time/tzdata` loadFromEmbeddedTZData): `""` and `"UTC"` are UTC and `"Local"` the
process's local zone without a look-up (the model's controller runs in UTC: Local is UTC here); a
name holding `..` or starting with `/` or `\\` is "time: invalid location name"; any other name not
in the database — case matters: `utc`, `local`, `America` — is "unknown time zone NAME".
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources
from typing import Final
from zoneinfo import ZoneInfo

import attrs

__all__ = ["GO_TZDATA_RELEASE", "NAMES_AFTER_GO", "UTC", "Zone", "load_location", "zone_names"]

GO_TZDATA_RELEASE: Final = "2025a"
"""The IANA release Go 1.24 embeds (`lib/time/update.bash` CODE/DATA), the toolchain of v1.33."""

NAMES_AFTER_GO: Final = frozenset({"America/Coyhaique"})
"""Names of later IANA releases than `GO_TZDATA_RELEASE` (2025b: America/Coyhaique), unknown to
Go 1.24's LoadLocation."""

EPOCH: Final = dt.datetime(1970, 1, 1)
"""Model time 0 (naive UTC)."""


@attrs.frozen
class Zone:
    """A loaded location, by its name: the offset from UTC at each instant comes from the tzdata
    package (UTC and Local: always 0)."""

    name: str = "UTC"

    def offset(self, t: int) -> int:
        """The zone's offset from UTC in seconds at model time `t` (Go's Location.lookup)."""
        if self.name in ("UTC", "Local"):
            return 0
        off = dt.datetime.fromtimestamp(t, _zoneinfo(self.name)).utcoffset()
        assert off is not None
        return int(off.total_seconds())

    def wall(self, t: int) -> dt.datetime:
        """Model time `t` on this zone's wall clock (naive: Go's Time.Date and Time.Clock)."""
        return EPOCH + dt.timedelta(seconds=t + self.offset(t))

    def date(self, year: int, month: int, day: int, hour: int, minute: int, second: int) -> int:
        """Go's time.Date in this zone: month and day may overflow (normalized as Go does: Jan 32 is
        Feb 1); a wall time the zone skips or repeats resolves as Go resolves it — the offset at the
        wall time read as UTC, then the offset at the instant that gives (`src/time/time.go` Date)."""
        years, month0 = divmod(month - 1, 12)
        wall = dt.datetime(year + years, month0 + 1, 1) + dt.timedelta(days=day - 1, hours=hour, minutes=minute,
                                                                       seconds=second)
        unix = int((wall - EPOCH).total_seconds())
        return unix - self.offset(unix - self.offset(unix))

    def add_date(self, t: int, months: int = 0, days: int = 0) -> int:
        """Go's t.AddDate(0, months, days): the same wall clock that many months and days on."""
        w = self.wall(t)
        return self.date(w.year, w.month + months, w.day + days, w.hour, w.minute, w.second)


UTC: Final = Zone("UTC")


@cache
def zone_names() -> frozenset[str]:
    """The names Go 1.24's embedded database holds: the tzdata package's `zones` list, less the
    names of later releases."""
    listed = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split()
    return frozenset(listed) - NAMES_AFTER_GO


@cache
def _zoneinfo(name: str) -> ZoneInfo:
    """The zone's rules, read from the tzdata package's own file (not the host's database)."""
    with resources.files("tzdata").joinpath("zoneinfo", *name.split("/")).open("rb") as data:
        return ZoneInfo.from_file(data, key=name)


def load_location(name: str) -> Zone | str:
    """time.LoadLocation(name): the zone, or Go's error message."""
    if name in ("", "UTC"):
        return UTC
    if name == "Local":
        return Zone("Local")
    if ".." in name or name.startswith(("/", "\\")):
        return "time: invalid location name"
    if name not in zone_names():
        return f"unknown time zone {name}"
    return Zone(name)
