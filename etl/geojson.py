"""Read ward boundaries from a GeoJSON FeatureCollection (longitude/latitude), problems in the user's terms.

Pure: given the file's bytes and the ward codes of this council, returns the shapes to store,
the problems that reject the file, and warnings that do not.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection

import pandas as pd

from etl.validate import Problem

_ONS_CODE = re.compile(r"^WD\d{2}CD$", re.IGNORECASE)


def _feature_code(props: dict[str, object]) -> str | None:
    for key, value in props.items():
        if key.lower() in ("ward_code", "area_code") or _ONS_CODE.match(key):
            if isinstance(value, str) and value.strip():
                return value.strip().upper()
    return None


MAX_POINTS_PER_SHAPE = 100_000  # a full-resolution ward outline has a few thousand
_MAX_DEPTH = 4  # MultiPolygon: polygons > rings > positions > numbers


def _is_position(value: object) -> bool:
    return (
        isinstance(value, list) and len(value) >= 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value[:2])
    )


def _lonlat_points(coords: object) -> int | None:
    """How many longitude/latitude positions the coordinates hold; None if any is not one.

    Walked with a stack, not recursion: a hostile file may nest lists thousands deep.
    """
    stack: list[tuple[object, int]] = [(coords, 1)]
    points = 0
    while stack:
        value, depth = stack.pop()
        if _is_position(value):
            lon, lat = value[0], value[1]
            if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
                return None
            points += 1
        elif isinstance(value, list) and value and depth < _MAX_DEPTH:
            stack.extend((v, depth + 1) for v in value)
        else:
            return None
    return points


def parse_boundaries(
    content: bytes, known: Collection[str]
) -> tuple[pd.DataFrame, list[Problem], list[str]]:
    """(ward_code, geometry JSON) rows, problems and warnings for a boundaries file."""
    empty = pd.DataFrame(columns=["ward_code", "geometry"])
    try:
        doc = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return empty, [Problem(None, None, None, f"The file is not GeoJSON: {exc}.")], []
    except RecursionError:
        return empty, [Problem(None, None, None, "The file is not GeoJSON: its lists are nested too deeply.")], []
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        return empty, [Problem(None, None, None, "The file is not a GeoJSON FeatureCollection.")], []
    crs = json.dumps(doc.get("crs", {})).upper()
    if crs not in ("{}", "NULL") and "CRS84" not in crs and "4326" not in crs:
        return empty, [Problem(None, None, None, "Shapes must be in longitude/latitude (CRS84); this file names another coordinate system.")], []
    known = set(known)
    problems: list[Problem] = []
    rows: dict[str, str] = {}
    unknown: list[str] = []
    features = doc.get("features")
    if not isinstance(features, list):
        return empty, [Problem(None, None, None, "The FeatureCollection has no list of features.")], []
    for i, feature in enumerate(features, start=1):
        feature = feature if isinstance(feature, dict) else {}
        props = feature.get("properties") if isinstance(feature.get("properties"), dict) else {}
        geometry = feature.get("geometry") if isinstance(feature.get("geometry"), dict) else None
        code = _feature_code(props)
        if not code:
            problems.append(Problem(None, f"feature {i}", None, "has no ward code (property ward_code, WDnnCD or area_code)"))
        elif not geometry or geometry.get("type") not in ("Polygon", "MultiPolygon"):
            problems.append(Problem(None, f"feature {i}", code, "has no Polygon or MultiPolygon geometry"))
        elif (points := _lonlat_points(geometry.get("coordinates"))) is None:
            problems.append(Problem(None, f"feature {i}", code, "has coordinates that are not longitude/latitude"))
        elif points > MAX_POINTS_PER_SHAPE:
            problems.append(Problem(None, f"feature {i}", code,
                                    f"has {points:,} points; a ward shape may have at most {MAX_POINTS_PER_SHAPE:,}. "
                                    "Simplify the boundaries (for example with mapshaper) and send them again"))
        elif code not in known:
            unknown.append(code)
        else:
            rows[code] = json.dumps(geometry, separators=(",", ":"))
    if not rows and not problems:
        problems.append(Problem(None, None, None, "No shape in the file names a ward of this council."))
    warnings = []
    if unknown:
        warnings.append(f"{len(unknown)} shape(s) name no known ward and were skipped: {', '.join(sorted(unknown)[:10])}")
    missing = sorted(known - set(rows))
    if missing:
        warnings.append(f"{len(missing)} ward(s) have no shape: {', '.join(missing)}")
    return pd.DataFrame({"ward_code": list(rows), "geometry": list(rows.values())}), problems, warnings
