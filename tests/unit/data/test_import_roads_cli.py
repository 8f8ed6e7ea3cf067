"""``python -m dashapp import ... --roads FILE``: a country and its roads in one step.

A bad road file or option stores nothing, not even the boundaries.
"""

from __future__ import annotations

import pytest

from dashapp.__main__ import main
from data import roads as road_store
from data.store import Store
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


def stored(tmp_path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'd' / 'dashapp.sqlite'}")


def datasets(tmp_path) -> list:
    path = tmp_path / "d" / "dashapp.sqlite"
    return stored(tmp_path).datasets() if path.exists() else []


def test_boundaries_and_roads_in_one_step(cli, tmp_path):
    adm3, roads = f.write_cod_ab(tmp_path), f.write_roads(tmp_path)
    code, out, err = cli("--boundaries", adm3, "--roads", roads,
                         "--road-class-column", "CLASSE", "--road-class-map",
                         "1=trunk,3=tertiary,6=track", "--road-surface-column",
                         "REVET")  # fmt: skip
    assert code == 0, err
    assert "roads of routes.geojson: 3 lines" in out
    assert "length by class: trunk 32.7 km, tertiary 5.5 km, track 5.5 km" in out
    (info,) = datasets(tmp_path)
    network = road_store.network_info(stored(tmp_path), info.id)
    assert network["source"] == "routes.geojson"
    assert network["report"]["length_km_by_class"]["trunk"] == pytest.approx(32.66, abs=0.01)
    lines = road_store.road_lines(stored(tmp_path), info.id)
    assert sorted(lines["surface"].dropna()) == ["paved", "unpaved"]


def test_dry_run_checks_the_roads_too(cli, tmp_path):
    adm3, roads = f.write_cod_ab(tmp_path), f.write_roads(tmp_path)
    code, out, err = cli("--boundaries", adm3, "--roads", roads, "--road-class-column",
                         "CLASSE", "--road-class-map", "1=trunk,3=tertiary,6=track",
                         "--dry-run")  # fmt: skip
    assert code == 0, err
    assert "dry run" in out and "length by class" in out
    assert datasets(tmp_path) == []


@pytest.mark.parametrize(
    ("extra", "phrase"),
    [
        (["--road-class-map", "1=autoroute"], "autoroute not road classes"),
        (["--road-class-map", "1"], "expected VALUE=CLASS"),
        (["--road-tolerance", "nan"], "--road-tolerance"),
        (["--road-class-map", "missing.json"], "missing.json"),
    ],
)
def test_bad_road_options_are_one_line_and_store_nothing(cli, tmp_path, extra, phrase):
    adm3, roads = f.write_cod_ab(tmp_path), f.write_roads(tmp_path)
    code, _, err = cli("--boundaries", adm3, "--roads", roads, "--road-class-column",
                       "CLASSE", *extra)  # fmt: skip
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and phrase in lines[0], lines
    assert datasets(tmp_path) == []


@pytest.mark.parametrize(
    ("content", "column", "phrase"),
    [
        (b"{not json", "CLASSE", "routes.geojson"),
        (b"", "CLASSE", "routes.geojson"),
        (None, "TYPE", "TYPE"),  # a class column the file does not have
        (None, "CLASSE", "none of the 3 lines has a usable road class"),  # 1, 3, 6: not OSM
    ],
)
def test_bad_road_files_name_the_file_and_store_nothing(cli, tmp_path, content, column,
                                                       phrase):  # fmt: skip
    adm3 = f.write_cod_ab(tmp_path)
    roads = f.write_roads(tmp_path)
    if content is not None:
        roads.write_bytes(content)
    code, _, err = cli("--boundaries", adm3, "--roads", roads, "--road-class-column",
                       column)  # fmt: skip
    assert code == 2, err
    assert "routes.geojson" in err and phrase in err
    assert "nothing was stored" in err
    assert datasets(tmp_path) == []


def test_missing_road_file_is_one_line(cli, tmp_path):
    code, _, err = cli("--boundaries", f.write_cod_ab(tmp_path), "--roads",
                       tmp_path / "nope.geojson")  # fmt: skip
    assert code == 2
    assert err.strip() == f"error: {tmp_path / 'nope.geojson'}: no such file"


def test_roads_whose_coordinates_contradict_their_crs_store_nothing(cli, tmp_path):
    """Metres (UTM) declared as degrees: one error naming the file."""
    adm3 = f.write_cod_ab(tmp_path)
    metres = f.roads().to_crs(32630).set_crs(4326, allow_override=True)
    roads = tmp_path / "routes_utm.gpkg"
    metres.to_file(roads, driver="GPKG")
    code, _, err = cli("--boundaries", adm3, "--roads", roads, "--road-class-column",
                       "CLASSE", "--road-class-map", "1=trunk,3=tertiary,6=track")  # fmt: skip
    assert code == 2, err
    assert "routes_utm.gpkg" in err and "nothing was stored" in err
    assert datasets(tmp_path) == []
