"""Schemas of the case data tables (pydantic rows), and a reader that checks a CSV against one.

Each case table has a row model; :func:`read_table` reads a CSV file and validates every row,
so a mistake is a :class:`~sim.errors.ScenarioError` naming the file, the line, the column and
the fix (exit code 2 in the CLI), never a traceback or a silently wrong world:

* the file: missing, a folder, unreadable, not UTF-8 (a UTF-8 byte-order mark is accepted),
  not CSV, no rows, a column missing;
* a row: a value of the wrong type, not finite, out of range, a whole number with a fraction,
  an unknown category;
* the table: a duplicated key (the same town, sub-district, zone or border vertex twice) or a
  total beyond what the model can hold.

The row models are per table and independent of the case (no town or zone names here), so a
case with other tables adds a row model and calls :func:`read_table`.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from sim.errors import ScenarioError

#: Persons in one town: above this a value is a unit or typing mistake (the largest city of the
#: region, Damascus, had about 2 million; ten times the largest town of any case is allowed).
MAX_TOWN_POPULATION = 20_000_000
#: Persons in a whole case (the towns table, before ``world.population_scale``): the model
#: simulates every person, so a larger total is refused rather than exhausting memory.
MAX_CASE_POPULATION = 50_000_000
#: Area of one sub-district in km2 (a value above this is a unit mistake: m2 for km2).
MAX_AREA_KM2 = 100_000.0


def _number(v: Any) -> Any:
    """A CSV cell as a float: text is parsed, blanks are missing; NaN and infinities refused."""
    if isinstance(v, str):
        s = v.strip()
        if not s:
            raise ValueError("is empty: write a number")
        try:
            v = float(s)
        except ValueError:
            raise ValueError(f"not a number: {s!r}") from None
    if isinstance(v, float) and not math.isfinite(v):
        raise ValueError(f"must be a finite number, got {v}")
    return v


def _whole(v: Any) -> Any:
    v = _number(v)
    if isinstance(v, float):
        if v != int(v):
            raise ValueError(f"must be a whole number, got {v:g}")
        return int(v)
    return v


def _text(v: Any) -> Any:
    return v.strip() if isinstance(v, str) else v


Number = Annotated[float, BeforeValidator(_number)]
Whole = Annotated[int, BeforeValidator(_whole)]
Text = Annotated[str, BeforeValidator(_text)]
Name = Annotated[str, BeforeValidator(_text), Field(min_length=1)]
Lat = Annotated[float, BeforeValidator(_number), Field(ge=-90, le=90)]
Lon = Annotated[float, BeforeValidator(_number), Field(ge=-180, le=180)]


class Row(BaseModel):
    """A row of a case table: unknown extra columns (sources, notes) are allowed and ignored."""

    model_config = ConfigDict(extra="ignore")


class TownRow(Row):
    """``towns.csv``: one locality."""

    town_id: Name
    name: Name
    lat: Lat
    lon: Lon
    governorate: Text = ""
    subdistrict: Name
    population: Annotated[int, BeforeValidator(_whole), Field(ge=0, le=MAX_TOWN_POPULATION)]
    controller: Literal["rebel", "regime"]
    faction: Text
    strategic: Literal["none", "border_crossing", "provincial_capital", "border_post"]
    #: census localities (villages, towns) the model town stands for; 1 if the table has no column
    localities: Annotated[int, BeforeValidator(_whole), Field(ge=0, le=10_000)] = 1
    #: other factions present in the town besides the one holding it, ids separated by ";"
    #: (empty if the table has no column); a faction that refuses talks present in a town keeps
    #: it out of every deal (:mod:`sim.rules.negotiation`)
    also_present: Text = ""

    @property
    def present_factions(self) -> tuple[str, ...]:
        """The factions named in ``also_present``."""
        return tuple(f.strip() for f in self.also_present.split(";") if f.strip())


class SubdistrictRow(Row):
    """``subdistricts.csv``: one sub-district's area."""

    subdistrict: Name
    area_km2: Annotated[float, BeforeValidator(_number), Field(ge=0, le=MAX_AREA_KM2)]


#: A timeseries column name (and a zone id, from which default column names are made).
COLUMN_NAME = r"^[a-z][a-z0-9_]*$"


class ZoneRow(Row):
    """``zones.csv``: a destination zone of the displaced and how the model treats it.

    ``kind``: ``border`` (an international border, closed unless the scenario opens it) or
    ``frontier`` (a ceasefire line, likewise): people wait there and cross when it is open;
    ``fields`` (fields near home); ``government`` (government-held areas, reached only while
    corridors are open); ``shelter`` (sheltering in place when no destination is reachable);
    ``evacuation`` (buses out of the area under safe passage). ``reach`` says how the distance
    is measured: to the ``border`` polyline (``line``), to the zone's point (``point``), to the
    nearest government-held town (``front``) or ``flight.fields_km`` (``near``). ``column`` is
    the timeseries column of the persons there (default ``displaced_<zone>``),
    ``crossed_column`` that of those who crossed an open border (default ``crossed_<zone>``),
    ``arrived_column`` (optional) a cumulative count of arrivals.
    """

    zone: Annotated[str, BeforeValidator(_text), Field(pattern=COLUMN_NAME)]
    name: Text = ""
    kind: Literal["border", "frontier", "fields", "government", "shelter", "evacuation"]
    lat: Lat | None = None
    lon: Lon | None = None
    reach: Literal["line", "point", "front", "near"] | None = None
    border: Text = ""
    column: Annotated[str, BeforeValidator(_text), Field(pattern=COLUMN_NAME)] | None = None
    crossed_column: Annotated[str, BeforeValidator(_text), Field(pattern=COLUMN_NAME)] | None = None
    arrived_column: Annotated[str, BeforeValidator(_text), Field(pattern=COLUMN_NAME)] | None = None


class BorderRow(Row):
    """``borders.csv``: one vertex of a border polyline."""

    border: Name
    seq: Number
    lat: Lat
    lon: Lon


def _blank_to_none(row: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    return {k: (None if k in fields and isinstance(v, str) and not v.strip() else v)
            for k, v in row.items()}


#: Per table: optional cells (blank means missing), the columns that key a row, what a row is.
TABLES: dict[type[Row], tuple[tuple[str, ...], tuple[str, ...], str]] = {
    TownRow: ((), ("town_id",), "town"),
    SubdistrictRow: ((), ("subdistrict",), "sub-district"),
    ZoneRow: (("lat", "lon", "reach", "column", "crossed_column", "arrived_column"), ("zone",),
              "zone"),
    BorderRow: ((), ("border", "seq"), "border vertex"),
}


def _g(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def _fix(model: type[Row], column: str, err: ErrorDetails) -> str:
    info = model.model_fields.get(column)
    if err["type"] == "literal_error":
        return f"use one of: {err.get('ctx', {}).get('expected', '')}"
    if info is not None:
        lo = next((m.ge for m in info.metadata if hasattr(m, "ge")), None)
        hi = next((m.le for m in info.metadata if hasattr(m, "le")), None)
        if lo is not None and hi is not None:
            bounds = (f"a non-negative value, at most {_g(hi)}" if lo == 0
                      else f"a value between {_g(lo)} and {_g(hi)}")
        elif lo is not None:
            bounds = f"a value >= {_g(lo)}"
        elif hi is not None:
            bounds = f"a value <= {_g(hi)}"
        else:
            bounds = ""
        if bounds:
            return bounds + (
                " (persons, whole numbers)" if column == "population" else
                " (km2)" if column == "area_km2" else " (degrees)" if column in ("lat", "lon") else "")
    if err["type"] == "string_pattern_mismatch":
        return "lower-case letters, digits and _, starting with a letter (it names timeseries columns)"
    if err["type"] == "string_too_short":
        return "write a value: this column may not be blank"
    return "write a plain value of the column's type"


def read_csv_rows(path: Path, what: str) -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows of a CSV file; every way the file itself can be wrong is a ScenarioError."""
    path = Path(path)
    if not path.exists():
        raise ScenarioError(f"{what} file not found", file=path,
                            fix="check the path in the scenario's [world] table: it is relative to "
                                "the scenario file that sets it (a path no file sets is relative to "
                                "the first file of the `extends` chain)")
    if path.is_dir():
        raise ScenarioError(f"is a folder, not the {what} file", file=path,
                            fix="name a .csv file in the scenario's [world] table")
    try:
        text = path.read_bytes().decode("utf-8-sig")  # a byte-order mark (Excel) is fine
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise ScenarioError(f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at byte "
                            f"{exc.start})", file=path, line=line,
                            fix="save the file as UTF-8 (e.g. 'CSV UTF-8' in a spreadsheet; "
                                "Latin-1/Windows-1252 files must be converted)") from None
    except OSError as exc:
        raise ScenarioError(f"cannot read the file: {exc.strerror}", file=path) from None
    if "\x00" in text:
        raise ScenarioError("is a binary file, not CSV text", file=path, fix="name a .csv file")
    try:
        reader = csv.DictReader(text.splitlines(keepends=True), restkey="__extra__")
        cols = [c.strip() for c in (reader.fieldnames or [])]
        rows = []
        for r in reader:
            rows.append({(k.strip() if isinstance(k, str) else k): v for k, v in r.items()})
    except csv.Error as exc:
        raise ScenarioError(f"not valid CSV: {exc}", file=path, line=reader.line_num,
                            fix="check quotes and separators (comma-separated, UTF-8)") from None
    return cols, rows


def read_table(path: Path, model: type[Row], what: str,
               check: Callable[[list[Row], Path], None] | None = None) -> list[Row]:
    """Read and validate a case table: one ``model`` per data row, in file order.

    Raises ScenarioError naming the file, the line (the header is line 1), the column and the fix.
    ``check`` runs on the whole table (e.g. a total) after the rows are valid.
    """
    path = Path(path)
    cols, raw = read_csv_rows(path, what)
    required = [n for n, f in model.model_fields.items() if f.is_required()]
    missing = [c for c in required if c not in cols]
    if missing:
        raise ScenarioError(f"missing column(s): {', '.join(missing)}", file=path, line=1,
                            field=missing[0],
                            fix=f"the {what} file needs columns: {', '.join(required)}"
                                + (f" (it has: {', '.join(cols)})" if cols else ""))
    if not raw:
        raise ScenarioError(f"the {what} file has no rows", file=path,
                            fix="add one row per entry below the header")
    optional, key, noun = TABLES.get(model, ((), (), "row"))
    rows: list[Row] = []
    seen: dict[tuple[Any, ...], int] = {}
    for i, r in enumerate(raw, start=2):
        if r.get("__extra__"):
            raise ScenarioError(f"{len(cols) + len(r['__extra__'])} cells for {len(cols)} columns",
                                file=path, line=i,
                                fix="quote cells that hold commas, or remove the extra cells")
        try:
            row = model.model_validate(_blank_to_none(r, optional))
        except ValidationError as exc:
            err = exc.errors()[0]
            column = str(err["loc"][0]) if err["loc"] else None
            msg = err["msg"].removeprefix("Value error, ")
            got = r.get(column) if column else None
            raise ScenarioError(f"{msg} (got {got!r})" if got is not None and str(got) not in msg
                                else msg, file=path, line=i, field=column,
                                fix=_fix(model, column or "", err)) from None
        if key:
            k = tuple(getattr(row, c) for c in key)
            if k in seen:
                raise ScenarioError(f"duplicate {noun} {'/'.join(map(str, k))!r} (also on line "
                                    f"{seen[k]})", file=path, line=i, field=key[0],
                                    fix=f"each {noun} appears once: remove or merge the duplicate "
                                        "row")
            seen[k] = i
        rows.append(row)
    if check is not None:
        check(rows, path)
    return rows


def check_total_population(rows: list[Row], path: Path) -> None:
    """The case's persons fit in the model (see :data:`MAX_CASE_POPULATION`)."""
    total = sum(int(getattr(r, "population", 0)) for r in rows)
    if total > MAX_CASE_POPULATION:
        raise ScenarioError(f"the towns hold {total:,} persons in all, more than the model can "
                            f"simulate ({MAX_CASE_POPULATION:,})", file=path, field="population",
                            fix="check the units: persons, not thousands of persons or ids")


# --- GeoJSON (sub-district polygons, for maps) ---------------------------------------------------
Position = Annotated[list[Annotated[float, Field(allow_inf_nan=False)]], Field(min_length=2)]
Ring = Annotated[list[Position], Field(min_length=4)]


class PolygonGeometry(BaseModel):
    type: Literal["Polygon"]
    coordinates: Annotated[list[Ring], Field(min_length=1)]


class MultiPolygonGeometry(BaseModel):
    type: Literal["MultiPolygon"]
    coordinates: Annotated[list[Annotated[list[Ring], Field(min_length=1)]], Field(min_length=1)]


class Feature(BaseModel):
    type: Literal["Feature"]
    geometry: Annotated[PolygonGeometry | MultiPolygonGeometry, Field(discriminator="type")]
    properties: dict[str, Any] = Field(default_factory=dict)


class FeatureCollection(BaseModel):
    type: Literal["FeatureCollection"]
    features: Annotated[list[Feature], Field(min_length=1)]


def read_geojson(path: Path, what: str = "sub-district polygons") -> dict[str, Any]:
    """Read a GeoJSON FeatureCollection of (Multi)Polygons; a truncated or malformed file is a
    ScenarioError naming the file, the line or the feature, and the fix. Returns the JSON."""
    import json

    path = Path(path)
    if not path.is_file():
        raise ScenarioError(f"{what} file not found" if not path.exists() else "is a folder",
                            file=path, fix="the case data folder needs subdistricts.geojson")
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ScenarioError("not UTF-8 text", file=path, fix="save the GeoJSON as UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"not valid JSON ({exc.msg}, column {exc.colno}): truncated or "
                            "damaged?", file=path, line=exc.lineno,
                            fix="restore the file (e.g. `git checkout` it, or re-run "
                                "scripts/extract_case_data.py)") from None
    try:
        FeatureCollection.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        raise ScenarioError(f"not a GeoJSON FeatureCollection of polygons: {err['msg']}",
                            file=path, field=loc or None,
                            fix="each feature needs a Polygon or MultiPolygon geometry with "
                                "[lon, lat] positions") from None
    return data
