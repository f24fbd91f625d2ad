"""Where a post is about: province and city from its text, else from the platform's IP属地."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

REGIONS_FILE = Path(__file__).resolve().with_name("regions.toml")
_SUFFIX = "壮族自治区|回族自治区|维吾尔自治区|特别行政区|自治区|自治州|地区|省|市|州|盟"
_IP_PREFIX = re.compile(r"^\s*(?:IP属地|ip属地|发布于)\s*[:：]?\s*")


@dataclass(frozen=True)
class Gazetteer:
    """Province -> cities, and one regex over every name."""

    city_province: dict[str, str]
    provinces: frozenset[str]
    ambiguous: frozenset[str]
    municipalities: frozenset[str]
    pattern: re.Pattern[str]
    district_city: dict[str, str] = field(default_factory=dict)
    district_pattern: re.Pattern[str] | None = None

    def locate(self, text: str, ip_region: str = "") -> tuple[str, str]:
        """(province, city) named in the text, or the city of a district it names (金水区 -> 郑州); else the
        province (and city) of the IP属地; else ("", "")."""
        found = self._from_text(text)
        if not found[1] and self.district_pattern is not None:
            m = self.district_pattern.search(text)
            if m:
                city = self.district_city[m.group("district")]
                province = self.city_province[city]
                if found[0] in ("", province):
                    return province, city
        if found[0]:
            return found
        return self._from_text(_IP_PREFIX.sub("", ip_region or ""), loose=True)

    def _from_text(self, text: str, loose: bool = False) -> tuple[str, str]:
        province = ""
        for m in self.pattern.finditer(text):
            name, suffix = m.group("name"), m.group("suffix") or ""
            city_prov = self.city_province.get(name)
            as_city = suffix[:1] in ("市", "州", "地", "盟")
            if name in self.provinces and not (as_city and city_prov and name not in self.municipalities):
                if name in self.municipalities:  # 北京, 上海: province and city at once
                    return name, name
                province = province or name
                continue
            if not city_prov:
                continue
            if name in self.ambiguous and not loose and not (as_city or province == city_prov):
                continue
            return city_prov, name
        return province, ""


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    data = tomllib.loads(REGIONS_FILE.read_text(encoding="utf-8"))
    city_province: dict[str, str] = {}
    for province, cities in data["provinces"].items():
        for city in cities:
            city_province.setdefault(city, province)
    provinces = frozenset(data["provinces"])
    names = sorted(set(city_province) | provinces, key=len, reverse=True)
    rx = re.compile(f"(?P<name>{'|'.join(map(re.escape, names))})(?P<suffix>{_SUFFIX})?")
    municipalities = frozenset(p for p, cities in data["provinces"].items() if list(cities) == [p])
    district_city = {d: city for city, districts in data.get("districts", {}).items() for d in districts}
    drx = None
    if district_city:
        alternatives = "|".join(map(re.escape, sorted(district_city, key=len, reverse=True)))
        drx = re.compile(f"(?P<district>{alternatives})区")
    return Gazetteer(city_province, provinces, frozenset(data.get("ambiguous", ())), municipalities, rx,
                     district_city, drx)


def locate(text: str, ip_region: str = "") -> tuple[str, str]:
    """(province, city) for a post: see Gazetteer.locate."""
    return gazetteer().locate(text, ip_region)
