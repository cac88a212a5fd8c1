"""The open-data commands of `python -m etl`: build-wards (more follow), registered by etl.cli.

Exit codes as for the rest of the CLI: 0 done, 1 a file could not be used (the message says
every reason), 2 a usage error (unknown option, a file that is not there).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

BUILD_WARDS_EPILOG = """\
examples:
  # ward-level census tables (Census 2021 ward tables are on the May 2022 wards):
  python -m etl build-wards --census census2021-ts021-ward.csv --census census2021-ts007a-ward.csv \\
      --census census2021-ts008-ward.csv --census census2021-ts038-ward.csv \\
      --neighbourhoods neighbourhoods.csv --out wards.csv
  # LSOA-level tables and IMD 2019 on the current wards, through ONS's best-fit lookup:
  python -m etl build-wards --census census2021-ts021-lsoa.csv --census census2021-ts007-lsoa.csv \\
      --imd "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv" \\
      --imd "File_6_-_IoD2019_Population_Denominators.csv" \\
      --lsoa-lookup lsoa21_to_ward25_bestfit.csv --council E08000010 --out wards.csv
  python -m etl load-reference --db data/council.duckdb wards wards.csv

Census files are Nomis bulk CSVs as downloaded (columns 'date, geography, geography code,
<Dimension>: <Category>', with or without '; measures: Value'): TS021 ethnic group, TS007 or
TS007A age, TS008 sex, TS038 disability. A dimension not given is left blank (not known).
With TS007A, the 16-24 group takes 4/5 of the 15-19 band (ages assumed evenly spread in it).
IMD: File 1 (ranks, deciles) and optionally File 6 (populations, to weight the mean rank).
neighbourhoods.csv: columns ward_code,neighbourhood; without it each ward is its own neighbourhood.
"""

IMPORT_360_EPILOG = """\
examples:
  python -m etl import-360giving --db data/council.duckdb --directorate "Place" grants_360giving.csv
  python -m etl import-360giving --db data/council.duckdb --directorate Place --from "2023-24 Q1" \\
      --partner-types partner_types.csv grants.json

One partnership per recipient organisation (its identifier is the partnership_id), arrangement
grant_funding, active in every quarter its grants span; partner type from the identifier's
register (GB-CHC charity -> vcse, GB-COH company -> community_business, or vcse with a charity
number, 360G- unregistered group -> vcse), or from partner_types.csv (identifier,partner_type;
an identifier or a prefix such as GB-COH). Partnerships already stored for a quarter are kept;
a stored row with the same partnership_id is replaced by the file's. Each quarter's register goes
through the same checks and history as an uploaded one; one problem stores nothing of the file.
"""

EXPORT_360_EPILOG = """\
examples:
  python -m etl export-360giving --db data/council.duckdb --out community-grants.json
  python -m etl export-360giving --db data/council.duckdb --funder-id GB-LAE-WGN \\
      --funder-name "Wigan Council" --prefix 360G-wigan --schema 360giving-standard/schema \\
      --out community-grants.json

Grants are the grant_funding partnerships of the current registers (community grants with their
partners): one per directorate, partnership and funding spell (start_date), its amount from
annual_value_gbp (a partnership without one is left out and listed: amounts are never invented),
a ward as a beneficiary location of type WD. Funder and prefix are remembered from an earlier
import-360giving. --schema names a folder with 360-giving-package-schema.json and
360-giving-schema.json: the package is checked against them before it is written.
"""

EXPORT_EPILOG = """\
examples:
  python -m etl export --db data/council.duckdb --to open-data/
  frictionless validate open-data/datapackage.json

Writes kpis_council, kpis_directorate, kpis_neighbourhood and kpis_ward (every KPI for every
quarter with data), budget, engagement and partnerships (the current returns) and wards, each
as CSV and Parquet, and a Frictionless datapackage.json describing them. Engagement demographic
counts are withheld by the pages' disclosure rule: '[c]' in CSV, null in Parquet.
"""

Command = Callable[[argparse.Namespace], int]


def add_parsers(sub: argparse._SubParsersAction, add_db: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the open-data subcommands to the CLI's parser; `add_db` adds its --db and --data-path."""
    s = sub.add_parser(
        "build-wards",
        help="build the wards reference file from ONS's Census 2021, IMD 2019 and lookup files",
        description="Build the wards file (for load-reference wards) from ONS's own downloads, on one ward set.",
        epilog=BUILD_WARDS_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("--census", action="append", type=Path, required=True, metavar="FILE",
                   help="a Census 2021 bulk CSV (repeat for each table)")
    s.add_argument("--imd", action="append", type=Path, default=[], metavar="FILE",
                   help="IMD 2019 File 1 (and optionally File 6); needs --lsoa-lookup")
    s.add_argument("--lsoa-lookup", type=Path, default=None, metavar="FILE",
                   help="ONS best-fit lookup LSOA21CD (or OA21CD) to WDnnCD/WDnnNM")
    s.add_argument("--council", default=None, metavar="LADCD",
                   help="keep only this council's rows of the lookup (e.g. E08000010)")
    s.add_argument("--neighbourhoods", type=Path, default=None, metavar="FILE",
                   help="the council's ward_code,neighbourhood file")
    s.add_argument("--out", type=Path, required=True, help="the wards CSV to write")
    s.add_argument("--imd-detail", type=Path, default=None, metavar="FILE",
                   help="where to write IMD per ward: LSOA count, mean rank, LSOAs in deciles 1-2 and their "
                        "share (default: beside --out, named <out>_imd.csv)")

    s = sub.add_parser(
        "import-360giving",
        help="read a 360Giving grants file (CSV or JSON) into a directorate's partnership registers",
        description="Turn a 360Giving file into the directorate's quarterly partnership registers.",
        epilog=IMPORT_360_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_db(s)
    s.add_argument("--directorate", required=True, help="directorate name or short name")
    s.add_argument("--user", default=None, help="who is importing it (default: your login name)")
    s.add_argument("--partner-types", type=Path, default=None, metavar="FILE",
                   help="identifier,partner_type mapping (an identifier or a register prefix per row)")
    s.add_argument("--from", dest="first", default=None, metavar="Q", help="first quarter to write")
    s.add_argument("--to", dest="last", default=None, metavar="Q",
                   help="last quarter to write (default: the current quarter)")
    s.add_argument("file", type=Path, help="the 360Giving file: flattened CSV, .xlsx or JSON")

    s = sub.add_parser(
        "export-360giving",
        help="write the council's community grants as a 360Giving JSON package",
        description="Publish the grant_funding partnerships as 360Giving data.",
        epilog=EXPORT_360_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_db(s)
    s.add_argument("--out", type=Path, required=True, help="the JSON file to write")
    s.add_argument("--funder-id", default=None, help="the council's org identifier, e.g. GB-LAE-TRF")
    s.add_argument("--funder-name", default=None, help="the council's name")
    s.add_argument("--prefix", default=None, help="your registered 360Giving prefix, e.g. 360G-traffordmbc")
    s.add_argument("--schema", type=Path, default=None, metavar="DIR",
                   help="folder with 360Giving's package and grant schemas to check the package against")

    s = sub.add_parser(
        "export",
        help="write every KPI and the current returns as open data (CSV, Parquet, datapackage.json)",
        description="Export the KPIs and returns as a Frictionless data package.",
        epilog=EXPORT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_db(s)
    s.add_argument("--to", type=Path, required=True, metavar="DIR", help="folder to write (created if needed)")


def _exists(*paths: Path | None) -> None:
    from etl.cli import UsageError

    for path in paths:
        if path is not None and not path.is_file():
            raise UsageError(f"There is no file {path}." if not path.exists() else f"{path} is a folder, not a file.")


def cmd_build_wards(args: argparse.Namespace) -> int:
    from etl import build_wards, ons

    _exists(*args.census, *args.imd, args.lsoa_lookup, args.neighbourhoods)
    try:
        built = build_wards.build(args.census, imd=args.imd or None, lookup=args.lsoa_lookup,
                                  neighbourhoods=args.neighbourhoods, council=args.council)
    except ons.OnsError as exc:
        print("The wards file was not written:")
        for problem in exc.problems:
            print(f"- {problem}")
        return 1
    content = build_wards.wards_csv(built.wards)
    problems = build_wards.check_loads(content, args.out.name)
    if problems:
        print("The wards file was not written: it would not load with `etl load-reference wards`:")
        for problem in problems[:50]:
            print(f"- {problem}")
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(content)
    for line in built.report:
        print(f"- {line}")
    print(f"Wrote {len(built.wards)} wards to {args.out}.")
    if built.vintage:  # the ward set they go into (docs/ward-vintages.md)
        print(f"They are on the {built.vintage} wards: load them with python -m etl load-reference wards "
              f"{args.out} --vintage {built.vintage} (add --from-quarter Q when they replace earlier wards).")
    if built.imd is not None:
        detail = args.imd_detail or args.out.with_name(args.out.stem + "_imd.csv")
        built.imd.to_csv(detail, index=False, lineterminator="\n")
        print(f"Wrote IMD 2019 per ward (with the share of LSOAs in deciles 1-2) to {detail}.")
    return 0


def cmd_import_360giving(args: argparse.Namespace) -> int:
    from etl import giving360, giving360_io
    from etl.cli import UsageError, _directorate, _read_file, _user, _warehouse
    from etl.quarters import parse_quarter
    from etl.read import ReadError, read_table
    from etl.report import problems_text

    wh = _warehouse(args)
    quarters = {}
    for name in ("first", "last"):
        value = getattr(args, name)
        try:
            quarters[name] = parse_quarter(value) if value else None
        except ValueError as exc:
            raise UsageError(f"--{'from' if name == 'first' else 'to'}: {exc}") from exc
    directorate = _directorate(wh, args.directorate)
    content = _read_file(args.file)
    try:
        mapping = None
        if args.partner_types:
            mapping = giving360.read_mapping(read_table(_read_file(args.partner_types), args.partner_types.name))
        result = giving360_io.import_360giving(
            wh, directorate=directorate, content=content, file_name=args.file.name, user=_user(args.user),
            mapping=mapping, first_quarter=quarters["first"], last_quarter=quarters["last"])
    except (giving360.GivingError, ReadError) as exc:
        problems = exc.problems if isinstance(exc, giving360.GivingError) else [str(exc)]
        print(f"{args.file.name} was not imported:")
        for problem in problems:
            print(f"- {problem}")
        return 1
    for line in result.report:
        print(f"- {line}")
    if result.skipped:
        print(f"Not mapped ({len(result.skipped)}):")
        for line in result.skipped:
            print(f"- {line}")
    for quarter, outcome in result.outcomes.items():
        if not outcome.ok:
            print(f"\n{quarter}: {outcome.message}")
            print(problems_text(outcome.problems))
    return 0 if result.ok else 1


def _schemas(folder: Path) -> tuple[dict, dict]:
    import json

    from etl.cli import UsageError

    out = []
    for name in ("360-giving-package-schema.json", "360-giving-schema.json"):
        path = folder / name
        try:
            out.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise UsageError(f"--schema: cannot read {path} ({exc})") from exc
    return out[0], out[1]


def cmd_export_360giving(args: argparse.Namespace) -> int:
    import json

    from etl import giving360, giving360_io
    from etl.cli import UsageError, _warehouse

    wh = _warehouse(args)
    schemas = _schemas(args.schema) if args.schema else None
    try:
        exported = giving360_io.export_360giving(wh, funder_id=args.funder_id, funder_name=args.funder_name,
                                                 prefix=args.prefix)
    except giving360_io.MissingFunder as exc:
        raise UsageError(str(exc)) from exc
    for line in exported.report:
        print(f"- {line}")
    for line in exported.skipped:
        print(f"- {'note' if 'estimated' in line else 'left out'}: {line}")
    if not exported.package["grants"]:
        print("Nothing was written: there is no grant_funding partnership with an annual value to publish "
              "(a 360Giving package needs at least one grant).")
        return 1
    if schemas:
        errors = giving360.validate_package(exported.package, *schemas)
        if errors:
            print(f"Nothing was written: the package does not validate against {args.schema}:")
            for error in errors[:50]:
                print(f"- {error}")
            return 1
        print(f"The package validates against 360Giving's schema in {args.schema}.")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(exported.package, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"Wrote {len(exported.package['grants'])} grant(s) to {args.out}.")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from etl import opendata
    from etl.cli import UsageError, _warehouse

    wh = _warehouse(args)
    if args.to.exists() and not args.to.is_dir():
        raise UsageError(f"--to: {args.to} is a file, not a folder.")
    summary = opendata.export(wh, args.to)
    for name, rows in summary.rows.items():
        print(f"- {name}: {rows:,} row(s) (.csv and .parquet)")
    print(f"Wrote {len(summary.rows)} tables for {summary.quarters} quarter(s) and datapackage.json to {args.to}.")
    return 0


COMMANDS: dict[str, Command] = {"export": cmd_export, "build-wards": cmd_build_wards, "import-360giving": cmd_import_360giving,
                                "export-360giving": cmd_export_360giving}
