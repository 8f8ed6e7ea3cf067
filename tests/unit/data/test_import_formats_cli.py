"""``python -m dashapp import`` (run in process) with point layers, other vector
formats and files of the wrong kind."""

from __future__ import annotations

import pytest

from dashapp.__main__ import main
from tests.unit.data import import_files as f


@pytest.fixture
def cli(tmp_path, monkeypatch, capsys):
    """``cli(*args)`` -> (exit code, stdout, stderr), on a store in ``tmp_path``."""
    monkeypatch.delenv("DASHAPP_DATABASE_URL", raising=False)

    def run(*args):
        code = main(["import", *map(str, args), "--data-dir", str(tmp_path / "d")])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_centers_and_osm_places_from_point_layers(cli, tmp_path):
    adm3 = f.write_cod_ab(tmp_path)
    centers = f.write_layer(f.sites(), tmp_path, "centres.geojson")
    places = f.write_osm_places(tmp_path)
    code, out, err = cli("--boundaries", adm3, "--centers", centers,
                         "--candidates", places, "--dry-run")  # fmt: skip
    assert code == 0, err
    assert "2 centers, 3 candidate sites" in out and "dry run" in out
    assert "codes are taken from the column “osm_id”" in err


def test_site_columns_and_layer_options(cli, tmp_path):
    adm3 = f.write_cod_ab(tmp_path)
    path = tmp_path / "sites.gpkg"
    f.sites().to_file(path, layer="centres", driver="GPKG")
    f.sites().to_file(path, layer="autres", driver="GPKG")
    code, _, err = cli("--boundaries", adm3, "--candidates", path, "--dry-run")
    assert code == 2 and "several possible layers" in err
    code, out, err = cli("--boundaries", adm3, "--candidates", path,
                         "--candidates-layer", "centres", "--candidates-column",
                         "code=", "--candidates-column", "capacity_week=capacite",
                         "--dry-run")  # fmt: skip
    assert code == 0, err
    assert "numbered in the file's order, from “SITE-0001” to “SITE-0002”" in err
    code, _, err = cli("--boundaries", adm3, "--centers", path,
                       "--centers-column", "colour=x", "--dry-run")  # fmt: skip
    assert code == 2 and err.count("\n") == 1 and "--centers-column 'colour=x'" in err


def test_points_as_boundaries_and_a_json_that_is_not_geojson(cli, tmp_path):
    centers = f.write_layer(f.sites(), tmp_path, "centres.geojson")
    code, _, err = cli("--boundaries", centers, "--dry-run")
    assert code == 2
    assert err.splitlines() == [
        "error: centres.geojson, field “geometry”: the file holds points (Point), not "
        "polygons: these are not boundaries. Give it as centers or as candidate "
        "sites; nothing was stored"
    ]
    stats = tmp_path / "stats.json"
    stats.write_text('{"a": 1}')
    code, _, err = cli("--boundaries", stats, "--dry-run", "--lang", "fr")
    assert code == 2 and err.startswith(
        "error: stats.json : format non pris en charge : ce fichier n'est pas du "
        "GeoJSON"
    )
    assert err.count("\n") == 1


def test_flatgeobuf_and_zipped_geodatabase_boundaries(cli, tmp_path):
    fgb = f.write_layer(f.communes(), tmp_path, "communes.fgb")
    code, out, err = cli("--boundaries", fgb, "--dry-run")
    assert code == 0, err
    assert out.startswith("2 region / 4 department / 8 commune")
    gdb = f.write_gdb_zip(tmp_path, {"adm3": f.communes(), "adm2": f.communes()})
    code, _, err = cli("--boundaries", gdb, "--dry-run")
    assert code == 2 and "several possible layers (adm3 (" in err
    code, out, err = cli("--boundaries", gdb, "--layer", "adm3", "--dry-run")
    assert code == 0, err


def test_help_lists_the_formats(capsys):
    with pytest.raises(SystemExit):
        main(["import", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for word in ("GeoJSON", "GeoPackage", "FlatGeobuf", "KML", ".kmz",
                 "File Geodatabase", ".gdb.zip", "Shapefile", "--centers-layer",
                 "--candidates-column", "osm_id"):  # fmt: skip
        assert word in text, word
