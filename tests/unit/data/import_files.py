"""Small boundary and table files written by the import tests, one per convention.

Eight 0.1° square communes in two columns of departments and two regions, near
(-5, 12) in West Africa::

    R01: D01 (C01 bottom, C02 top), D02 (C03, C04)
    R02: D03 (C05, C06), D04 (C07, C08)
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point, box

X0, Y0, STEP = -5.0, 12.0, 0.1
NAMES = [
    "Saint-Louis", "Kaolack", "Sainte-Mariama", "Diassé",
    "Grand-Kouraba", "N'Diaye", "Sokodougou", "Médina-Gare",
]  # fmt: skip
POPULATION = [12000, 8000, 5000, 7000, 20000, 3000, 4000, 6000]


def communes() -> gpd.GeoDataFrame:
    """The eight communes with COD-AB columns (ADM0..ADM3)."""
    rows = []
    for i in range(8):
        dept, pos = divmod(i, 2)
        region = dept // 2
        geom = box(
            X0 + dept * STEP,
            Y0 + pos * STEP,
            X0 + (dept + 1) * STEP,
            Y0 + (pos + 1) * STEP,
        )
        rows.append(
            {
                "ADM0_PCODE": "XY",
                "ADM0_FR": "Pays test",
                "ADM1_PCODE": f"XY{region + 1:02d}",
                "ADM1_FR": ["Nord", "Sud"][region],
                "ADM2_PCODE": f"XY{region + 1:02d}{dept + 1:02d}",
                "ADM2_FR": f"Département {dept + 1}",
                "ADM3_PCODE": f"XY{region + 1:02d}{dept + 1:02d}{i + 1:03d}",
                "ADM3_FR": NAMES[i],
                "geometry": geom,
            }
        )
    return gpd.GeoDataFrame(rows, crs="EPSG:4326")


def write_cod_ab(folder: Path) -> Path:
    path = folder / "xy_admbnda_adm3.geojson"
    communes().to_file(path, driver="GeoJSON")
    return path


def population_by_pcode(folder: Path, delimiter: str = ",", encoding="utf-8") -> Path:
    frame = communes()[["ADM3_PCODE", "ADM3_FR"]].assign(T_TL=POPULATION)
    path = folder / "population.csv"
    frame.to_csv(path, index=False, sep=delimiter, encoding=encoding)
    return path


def population_by_name(folder: Path, names: list[str] | None = None) -> Path:
    """French spreadsheet style: ';' separator, cp1252, names spelled differently."""
    names = names or [
        "ST LOUIS", "kaolack", "Ste Mariama", "Diasse",
        "Grand Kouraba", "N DIAYE", "Sokodougou", "MEDINA GARE",
    ]  # fmt: skip
    lines = ["commune;population"] + [
        f"{n};{p:,}".replace(",", " ") for n, p in zip(names, POPULATION, strict=True)
    ]
    path = folder / "population_noms.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def write_geoboundaries(folder: Path) -> list[Path]:
    """ADM1, ADM2, ADM3 files with shapeName/shapeID only; edges slightly shifted."""
    base = communes()
    paths = []
    for level, key, name in (
        (1, "ADM1_PCODE", "ADM1_FR"),
        (2, "ADM2_PCODE", "ADM2_FR"),
        (3, "ADM3_PCODE", "ADM3_FR"),
    ):
        dissolved = base.dissolve(by=key, aggfunc="first").reset_index()
        # independent digitisation: borders do not match exactly between levels
        geoms = dissolved.geometry.translate(0.002 * level, 0.001 * level)
        frame = gpd.GeoDataFrame(
            {
                "shapeName": dissolved[name],
                "shapeID": [f"XY-ADM{level}-{k:05d}" for k in range(len(dissolved))],
                "shapeGroup": "XY",
                "shapeType": f"ADM{level}",
            },
            geometry=geoms.to_numpy(),
            crs="EPSG:4326",
        )
        path = folder / f"geoBoundaries-XY-ADM{level}.geojson"
        frame.to_file(path, driver="GeoJSON")
        paths.append(path)
    return paths


def write_generic(folder: Path) -> Path:
    """Columns nobody could guess: a mapping is needed."""
    base = communes()
    frame = gpd.GeoDataFrame(
        {
            "ident": base["ADM3_PCODE"],
            "appellation": base["ADM3_FR"],
            "zone_sup": base["ADM1_PCODE"],
            "circonscription": base["ADM2_PCODE"],
            "habitants": POPULATION,
        },
        geometry=base.geometry,
        crs="EPSG:4326",
    )
    path = folder / "communes_generic.gpkg"
    frame.to_file(path, layer="communes", driver="GPKG")
    return path


def write_zipped_shapefile(folder: Path, epsg: int = 32630) -> Path:
    """COD-AB columns, projected to UTM 30N, Shapefile parts inside a sub-folder."""
    shp_dir = folder / "shp"
    shp_dir.mkdir(exist_ok=True)
    communes().to_crs(epsg=epsg).to_file(shp_dir / "xy_adm3.shp")
    path = folder / "xy_adm3_shp.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in sorted(shp_dir.iterdir()):
            archive.write(part, f"xy_adm3/{part.name}")
    return path


def write_centers(folder: Path, extra_rows: list[str] | None = None) -> Path:
    lines = [
        "code,nom,longitude,latitude,capacite,effectif",
        "SC1,Centre Saint-Louis,-4.95,12.05,300,4",
        "SC2,Centre Grand-Kouraba,-4.75,12.05,500,6",
        *(extra_rows or []),
    ]
    path = folder / "centres.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_candidates(folder: Path) -> Path:
    lines = [
        "code,nom,lon,lat,cout,capacite",
        "CS1,Site Kaolack,-4.95,12.15,90,250",
        "CS2,Site Sokodougou,-4.65,12.05,80,250",
    ]
    path = folder / "sites.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_operations(folder: Path, rows: list[dict] | None = None) -> Path:
    rows = rows or [
        {
            "week": "2026-01-05", "commune_code": "XY0101001", "center_code": "SC1",
            "doc_type": "CNI", "requests": 10, "delivered": 8,
            "delivered_on_time": 7, "rejected": 1, "backlog": 1,
            "delay_mean_days": 9.5, "delay_p90_days": 14.0,
        },
        {
            "week": "2026-01-05", "commune_code": "XY0203005", "center_code": "SC2",
            "doc_type": "PASS", "requests": 4, "delivered": 4,
            "delivered_on_time": 4, "rejected": 0, "backlog": 0,
            "delay_mean_days": 12.0, "delay_p90_days": 18.0,
        },
    ]  # fmt: skip
    path = folder / "operations.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


# -- other vector formats: point layers, FlatGeobuf, File Geodatabase, KML --------------

#: Vector formats the import reads, by suffix: (pyogrio driver, layer name).
POINT_FORMATS = {
    ".geojson": "GeoJSON", ".gpkg": "GPKG", ".fgb": "FlatGeobuf", ".kml": "KML",
    ".kmz": "KML", ".zip": "ESRI Shapefile",
}  # fmt: skip


def sites() -> gpd.GeoDataFrame:
    """The two centers of :func:`write_centers` as points (in C01 and C05)."""
    return gpd.GeoDataFrame(
        {"code": ["SC1", "SC2"], "nom": ["Centre Saint-Louis", "Centre Grand-Kouraba"],
         "capacite": [300, 500], "effectif": [4, 6]},
        geometry=[Point(-4.95, 12.05), Point(-4.75, 12.05)],
        crs="EPSG:4326",
    )  # fmt: skip


def write_layer(frame: gpd.GeoDataFrame, folder: Path, name: str) -> Path:
    """``frame`` in the format of ``name``'s suffix (see :data:`POINT_FORMATS`).

    ``.kmz`` is a zip holding ``doc.kml``; ``.zip`` a zipped Shapefile (its parts
    in a sub-folder, as archives made by hand often have).
    """
    path = folder / name
    suffix = path.suffix.lower()
    stem = path.name.split(".")[0]
    if suffix in (".kmz", ".zip"):
        inner = folder / f"{stem}_parts"
        inner.mkdir(exist_ok=True)
        if suffix == ".kmz":
            frame.to_file(inner / "doc.kml", driver="KML")
        else:
            frame.to_file(inner / f"{stem}.shp")
        with zipfile.ZipFile(path, "w") as archive:
            for part in sorted(inner.iterdir()):
                arcname = part.name if suffix == ".kmz" else f"{stem}/{part.name}"
                archive.write(part, arcname)
        return path
    kw = {"layer": stem} if suffix == ".gpkg" else {}
    frame.to_file(path, driver=POINT_FORMATS[suffix], **kw)
    return path


def write_osm_places(folder: Path, name: str = "osm_places.geojson") -> Path:
    """An OpenStreetMap places export: name, place, population, osm_id; no code."""
    frame = gpd.GeoDataFrame(
        {"osm_id": [3101, 3102, 8815], "osm_type": ["node", "node", "node"],
         "name": ["Kaya", "Koro", "Sabou"], "place": ["town", "village", "village"],
         "population": [12000, None, 900]},
        geometry=[Point(-4.95, 12.15), Point(-4.65, 12.05), Point(-4.65, 12.15)],
        crs="EPSG:4326",
    )  # fmt: skip
    path = folder / name
    frame.to_file(path, driver="GeoJSON")
    return path


def write_gdb_zip(folder: Path, layers: dict[str, gpd.GeoDataFrame]) -> Path:
    """A zipped File Geodatabase (``xy_adm.gdb.zip``), one feature class per entry."""
    gdb = folder / "xy_adm.gdb"
    for name, frame in layers.items():
        frame.to_file(gdb, driver="OpenFileGDB", layer=name,
                      TARGET_ARCGIS_VERSION="ARCGIS_PRO_3_2_OR_LATER")  # fmt: skip
    path = folder / "xy_adm.gdb.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for part in sorted(gdb.iterdir()):
            archive.write(part, f"xy_adm.gdb/{part.name}")
    return path


def roads() -> gpd.GeoDataFrame:
    """Roads across the eight communes, a national classification in ``CLASSE``
    (1 national road, 3 rural road, 6 track) and a surface column."""
    from shapely.geometry import LineString

    y_mid = Y0 + STEP
    rows = [
        (1, "asphalt", [(X0 + 0.5 * STEP, y_mid), (X0 + 3.5 * STEP, y_mid)]),
        (3, "gravel", [(X0 + 0.5 * STEP, Y0 + 0.5 * STEP), (X0 + 0.5 * STEP, y_mid)]),
        (6, None, [(X0 + 3.5 * STEP, y_mid), (X0 + 3.5 * STEP, Y0 + 1.5 * STEP)]),
    ]
    return gpd.GeoDataFrame(
        {"CLASSE": [r[0] for r in rows], "REVET": [r[1] for r in rows]},
        geometry=[LineString(r[2]) for r in rows],
        crs="EPSG:4326",
    )


def write_roads(folder: Path, frame: gpd.GeoDataFrame | None = None,
                name: str = "routes.geojson") -> Path:  # fmt: skip
    path = folder / name
    (roads() if frame is None else frame).to_file(path, driver="GeoJSON")
    return path
