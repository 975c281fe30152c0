"""The registry import file (YAML or JSON), as strict pydantic models.

Every model forbids unknown keys (a typo is an error, never a silent default). Checks that need
more than one field of one entry are named `verify_*` functions returning findings; each model
calls its own from one `model_validator`, so every finding is reported with the field it concerns.
Checks that need other entries or the database (references, duplicates) live in `references.py`.

Optional keys left out of an entry keep the stored value of an existing record (a new record gets
the default); an explicit `null` clears it. `model_fields_set` tells the two apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from common.findings import CHECK_ERROR, Finding, Loc, raise_findings
from common.profiles import shipped_profiles

RegionLevel = Literal["province", "city", "county"]
HallLevel = Literal["provincial", "city", "county", "sub_centre"]
DeviceKind = Literal["camera", "keypad", "display", "edge"]
Stage = Literal["accepted", "undertaken", "reviewed", "approved"]

# A path inside the document, as pydantic writes it: ("halls", 0, "region").

REGION_CODE_PATTERN = r"^[0-9]{6}$"  # ASCII only: \d also matches full-width digits
# Codes travel in URLs, logs and file names: letters, digits and a few separators, no spaces.
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
MAX_LIMIT_DAYS = 365

CHILD_LEVEL: dict[str, str] = {"province": "city", "city": "county"}
PARENT_LEVEL: dict[str, str] = {"city": "province", "county": "city"}
REGION_LEVELS_TOP_DOWN: tuple[str, ...] = ("province", "city", "county")
# A child's code starts with its parent's: 51xxxx under 510000, 5101xx under 510100 (GB/T 2260).
SHARED_PREFIX_DIGITS: dict[str, int] = {"province": 2, "city": 4}
HALL_LEVEL_FOR_REGION: dict[str, str] = {"province": "provincial", "city": "city", "county": "county"}

REGISTRY_CHECK_ERROR = CHECK_ERROR


# Bounds follow the column sizes in models.py, so a value that validates also fits its column.
Code40 = Annotated[str, Field(min_length=1, max_length=40, pattern=CODE_PATTERN)]
Code60 = Annotated[str, Field(min_length=1, max_length=60, pattern=CODE_PATTERN)]
RegionCode = Annotated[str, Field(pattern=REGION_CODE_PATTERN)]
Name60 = Annotated[str, Field(min_length=1, max_length=60)]
Name100 = Annotated[str, Field(min_length=1, max_length=100)]
Name120 = Annotated[str, Field(min_length=1, max_length=120)]
Name200 = Annotated[str, Field(min_length=1, max_length=200)]
NAME = "Name shown to people (zh-CN)."


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


# --- regions ----------------------------------------------------------------------------------


class RegionEntry(_Entry):
    code: RegionCode = Field(..., description="6-digit national administrative division code.")
    name: Name100 = Field(..., description=NAME)
    level: RegionLevel = Field(..., description="province, city (市州) or county (县市区).")
    parent: RegionCode | None = Field(
        None,
        description="Only on a top-level entry: its parent region (stored, or elsewhere in this file).",
    )
    rule_profile: str | None = Field(
        None, min_length=1, max_length=64, description="Rule profile key; none: inherit from the parent."
    )
    children: list[RegionEntry] = Field(
        default_factory=list, max_length=10_000, description="Regions one level below this one."
    )

    @model_validator(mode="after")
    def _verify(self) -> Self:
        raise_findings(
            [
                *verify_region_code_shape(self),
                *verify_rule_profile(self),
                *verify_children_levels(self),
                *verify_children_codes(self),
            ]
        )
        return self


def verify_region_code_shape(region: RegionEntry) -> list[Finding]:
    """Province codes end in 0000, city codes in 00, county codes never in 00."""
    code, level = region.code, region.level
    shaped = {
        "province": code.endswith("0000"),
        "city": code.endswith("00") and not code.endswith("0000"),
        "county": not code.endswith("00"),
    }[level]
    if shaped:
        return []
    expected = {"province": "ends in 0000", "city": "ends in 00 (not 0000)", "county": "does not end in 00"}
    return [Finding(("code",), f"a {level} code {expected[level]}; {code} does not fit level {level}")]


def verify_rule_profile(region: RegionEntry) -> list[Finding]:
    if region.rule_profile is None or region.rule_profile in shipped_profiles():
        return []
    known = ", ".join(sorted(shipped_profiles()))
    return [Finding(("rule_profile",), f"unknown rule profile {region.rule_profile!r}; known: {known}")]


def verify_children_levels(region: RegionEntry) -> list[Finding]:
    if not region.children:
        return []
    expected = CHILD_LEVEL.get(region.level)
    if expected is None:
        return [Finding(("children",), f"a {region.level} cannot have child regions")]
    findings = []
    for index, child in enumerate(region.children):
        if child.level != expected:
            findings.append(
                Finding(
                    ("children", index, "level"),
                    f"a region under {region.level} {region.code} must be a {expected}, not a {child.level}",
                )
            )
        if child.parent is not None and child.parent != region.code:
            findings.append(
                Finding(
                    ("children", index, "parent"),
                    f"a nested region's parent is the enclosing one ({region.code}), not {child.parent}",
                )
            )
    return findings


def verify_children_codes(region: RegionEntry) -> list[Finding]:
    digits = SHARED_PREFIX_DIGITS.get(region.level)
    if digits is None:
        return []
    prefix = region.code[:digits]
    return [
        Finding(("children", index, "code"), f"{child.code} is not under {region.code} (expected {prefix}…)")
        for index, child in enumerate(region.children)
        if not child.code.startswith(prefix)
    ]


# --- halls, departments, windows, staff, devices ---------------------------------------------------


class HallEntry(_Entry):
    code: Code40 = Field(..., description="Hall code, unique.")
    name: Name120 = Field(..., description=NAME)
    region: RegionCode = Field(..., description="Code of the hall's region.")
    level: HallLevel | None = Field(
        None,
        description="Default from the region: province→provincial, city→city, county→county; "
        "sub_centre only when written.",
    )
    address: str | None = Field(None, min_length=1, max_length=200, description="Street address.")


class DepartmentEntry(_Entry):
    code: Code40 = Field(..., description="Department code, unique.")
    name: Name120 = Field(..., description=NAME)
    hall: Code40 = Field(..., description="Code of the hall the department sits in.")


class WindowEntry(_Entry):
    code: Code40 = Field(..., description="Window code, unique within its hall.")
    name: Name120 = Field(..., description=NAME)
    hall: Code40 = Field(..., description="Code of the window's hall.")
    department: Code40 | None = Field(None, description="Department of the window (same hall).")


class StaffEntry(_Entry):
    code: Code40 = Field(..., description="Staff code, unique.")
    name: Name60 = Field(..., description=NAME)
    department: Code40 = Field(..., description="Code of the staff member's department.")
    window: Code40 | None = Field(None, description="Window in the department's hall.")
    active: StrictBool = Field(True, description="False: left the hall (kept for history).")


class DeviceEntry(_Entry):
    code: Code60 = Field(..., description="Device code, unique.")
    kind: DeviceKind = Field(..., description="camera, keypad (rating), display or edge (agent box).")
    name: Name120 = Field(..., description=NAME)
    hall: Code40 = Field(..., description="Code of the device's hall.")
    window: Code40 | None = Field(None, description="Window in the device's hall.")


# --- the item catalog ------------------------------------------------------------------------------

LimitDays = Annotated[StrictInt, Field(ge=1, le=MAX_LIMIT_DAYS)]
Material = Annotated[str, Field(min_length=1, max_length=500)]


class ItemEntry(_Entry):
    code: Code60 = Field(..., description="Item code (事项编码), unique.")
    name: Name200 = Field(..., description=NAME)
    department: Code40 = Field(..., description="Code of the department that handles the item.")
    legal_limit_days: LimitDays = Field(..., description="Legal time limit (法定时限), working days.")
    promised_limit_days: LimitDays | None = Field(
        None, description="Promised limit (承诺时限), working days, at most the legal one."
    )
    stage_limits: dict[Stage, LimitDays] | None = Field(
        None, description="Working days per stage: accepted, undertaken, reviewed, approved."
    )
    fee: Decimal = Field(
        Decimal("0"), ge=0, max_digits=12, decimal_places=2, description="Fee in yuan; 0: free."
    )
    basis: str | None = Field(None, min_length=1, max_length=20_000, description="Legal basis (设定依据).")
    conditions: str | None = Field(
        None, min_length=1, max_length=20_000, description="Conditions (受理条件)."
    )
    materials: list[Material] | None = Field(
        None, max_length=500, description="Required materials (申请材料), one per entry."
    )

    @model_validator(mode="after")
    def _verify(self) -> Self:
        raise_findings([*verify_promised_within_legal(self), *verify_stage_limits_within_legal(self)])
        return self


def verify_promised_within_legal(item: ItemEntry) -> list[Finding]:
    if item.promised_limit_days is None or item.promised_limit_days <= item.legal_limit_days:
        return []
    return [
        Finding(
            ("promised_limit_days",),
            f"promised limit {item.promised_limit_days} exceeds the legal limit {item.legal_limit_days}",
        )
    ]


def verify_stage_limits_within_legal(item: ItemEntry) -> list[Finding]:
    """Stages run one after another, so together they fit in the legal limit."""
    if not item.stage_limits:
        return []
    total = sum(item.stage_limits.values())
    if total <= item.legal_limit_days:
        return []
    return [
        Finding(
            ("stage_limits",),
            f"stage limits add up to {total} working days, more than the legal limit {item.legal_limit_days}",
        )
    ]


# --- the document ------------------------------------------------------------------------------


class RegistryDocument(_Entry):
    regions: list[RegionEntry] = Field(default_factory=list, description="Region trees, roots first.")
    halls: list[HallEntry] = Field(default_factory=list, description="Service centres.")
    departments: list[DepartmentEntry] = Field(default_factory=list, description="Departments in halls.")
    windows: list[WindowEntry] = Field(default_factory=list, description="Service windows.")
    staff: list[StaffEntry] = Field(default_factory=list, description="Window staff.")
    devices: list[DeviceEntry] = Field(default_factory=list, description="Cameras, keypads, displays.")
    items: list[ItemEntry] = Field(default_factory=list, description="The item catalog (事项).")


@dataclass(frozen=True)
class PlacedRegion:
    """A region of the tree with its place in the file and its parent's code (None: keep stored)."""

    loc: Loc
    entry: RegionEntry
    parent_code: str | None


def iter_regions(document: RegistryDocument) -> Iterator[PlacedRegion]:
    """Every region of the file, parents before their children."""
    stack: list[PlacedRegion] = [
        PlacedRegion(("regions", index), entry, entry.parent)
        for index, entry in reversed(list(enumerate(document.regions)))
    ]
    while stack:
        placed = stack.pop()
        yield placed
        for index, child in reversed(list(enumerate(placed.entry.children))):
            stack.append(PlacedRegion((*placed.loc, "children", index), child, placed.entry.code))
