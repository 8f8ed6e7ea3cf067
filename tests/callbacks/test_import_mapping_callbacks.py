"""Import screen: every mapping choice the command line has.

A census whose join column no guess knows joins by name when told so; a generic
boundary layer gets its parents' names and its population column from the
screen; CSV separator and encoding are chosen; level codes are typed; guesses
left alone are reported as guesses; a file's controls follow its role.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
from dash.exceptions import PreventUpdate

from callbacks import importer as cb
from dashapp import ids, services
from tests.callbacks.test_import_partial_callbacks import _find, _job, _upload
from tests.unit.data import import_files as f


def _card(data: dict, name: str) -> int:
    """Position of the file ``name``'s card (the cards are listed by file name,
    not in the order the files were dropped)."""
    return [entry["name"] for entry in data["files"]].index(name)


# names only (spelled differently), under a column name no guess knows
LOCALITIES = "localite|hab_2019\r\n" + "".join(
    f"{n}|{p}\r\n"
    for n, p in zip(
        ["ST LOUIS", "kaolack", "Ste Mariama", "Diasse", "Grand Kouraba", "N DIAYE",
         "Sokodougou", "MEDINA GARE"],
        f.POPULATION,
        strict=True,
    )
)  # fmt: skip


pytestmark = pytest.mark.writes_demo


def _store(demo_app):
    return services.get_store(demo_app.server.config["DASHAPP"].database_url)


def _ids(component) -> set:
    """Every pattern-matching field id inside a component tree."""
    found = set()

    def walk(node):
        id_ = getattr(node, "id", None)
        if isinstance(id_, dict) and "field" in id_:
            found.add(id_["field"])
        children = node if isinstance(node, list | tuple) else getattr(
            node, "children", None
        )
        if isinstance(children, list | tuple):
            for c in children:
                walk(c)
        elif children is not None and not isinstance(children, str):
            walk(children)

    walk(component)
    return found


def test_every_cli_mapping_option_has_its_control(call, tmp_path):
    census = tmp_path / "localites.csv"
    census.write_bytes(LOCALITIES.encode("cp1252"))
    data, children = _upload(call, [f.write_generic(tmp_path), census])
    boundaries, population = children
    assert {"code", "name", "parent0", "parent0_name", "parent1", "parent1_name",
            "population"} <= _ids(boundaries)  # fmt: skip
    assert {"join", "join_by", "join_parent", "population", "join_mode", "delimiter",
            "encoding"} <= _ids(population)  # fmt: skip
    assert "delimiter" not in _ids(boundaries)  # a layer has no separator


def test_a_name_column_no_guess_knows_joins_by_name_when_told(
    call, demo_app, tmp_path
):
    census = tmp_path / "localites.csv"
    census.write_bytes(LOCALITIES.encode("cp1252"))
    data, _ = _upload(call, [f.write_cod_ab(tmp_path), census])
    c = _card(data, "localites.csv")  # cards are listed by file name
    chosen = [((c, "join"), "localite"), ((c, "population"), "hab_2019"),
              ((c, "delimiter"), "|"), ((c, "encoding"), "windows-1252")]  # fmt: skip
    for join_by in ("name", ""):  # told, or automatic: codes do not match, names do
        report, _, table, _ = _job(
            call, demo_app, ids.IMP_CHECK, data,
            columns=[*chosen, ((c, "join_by"), join_by)],
        )  # fmt: skip
        text = str(report)
        assert "Aucune erreur" in text, text
        assert "population 65" in text and "000." in text
    # told "code": every row fails, by name, never silently
    report, *_ = _job(call, demo_app, ids.IMP_CHECK, data,
                      columns=[*chosen, ((c, "join_by"), "code")])  # fmt: skip
    assert "code « ST LOUIS » inconnu" in str(report) or "ST LOUIS" in str(report)
    assert "Aucune erreur" not in str(report)


def test_boundary_columns_chosen_on_screen(call, demo_app, tmp_path):
    layer = gpd.read_file(f.write_generic(tmp_path), layer="communes")
    layer["nom_region"] = ["Nord"] * 4 + ["Sud"] * 4
    path = tmp_path / "communes_noms.gpkg"
    layer.to_file(path, layer="communes")
    data, _ = _upload(call, [path])
    columns = [((0, "code"), "ident"), ((0, "name"), "appellation"),
               ((0, "parent0"), "zone_sup"), ((0, "parent0_name"), "nom_region"),
               ((0, "parent1"), "circonscription"), ((0, "parent1_name"), ""),
               ((0, "population"), "habitants")]  # fmt: skip
    store = _store(demo_app)
    before = {d.id for d in store.datasets()}
    report, _, table, _ = _job(call, demo_app, ids.IMP_COMMIT, data, columns=columns)
    assert "importé (n°" in str(report), str(report)
    (new,) = [d for d in store.datasets() if d.id not in before]
    regions = store.units(new.id, level=0).set_index("code")["name"]
    assert regions.to_dict() == {"XY01": "Nord", "XY02": "Sud"}  # names, not codes
    communes = store.units(new.id, level=2)
    assert communes["population"].sum() == sum(f.POPULATION)


def test_guesses_left_alone_are_reported_as_guesses(call, demo_app, tmp_path):
    data, _ = _upload(call, [f.write_cod_ab(tmp_path)])
    report, *_ = _job(call, demo_app, ids.IMP_CHECK, data)
    text = str(report)
    assert "colonnes devinées d'après leur nom" in text
    assert "code « ADM3_PCODE »" in text
    # chosen on screen (even the same as guessed elsewhere): not called a guess
    report, *_ = _job(call, demo_app, ids.IMP_CHECK, data,
                      columns=[((0, "name"), "ADM3_PCODE")])  # fmt: skip
    assert "nom « ADM3_FR »" not in str(report)


def test_level_codes_typed_on_screen(call, demo_app, tmp_path):
    data, _ = _upload(call, [f.write_cod_ab(tmp_path)])
    config = demo_app.server.config["DASHAPP"]

    def check(levels):
        return call(
            cb.run_import_job, config, lambda _: None, 1, 1, data, [], [], [], [],
            [0.024, 0.006, 0.02], [ids.imp_rate(d) for d in ("CNI", "PASS", "ACTE")],
            "Niveaux", [], "fr", [], levels, trigger=f"{ids.IMP_CHECK}.n_clicks",
        )[0]  # fmt: skip

    text = str(check("region,prefecture,commune"))
    assert "Aucune erreur" in text and "4 préfectures" in text
    for bad in ("region,region,commune", "x" * 41, ",,"):
        text = str(check(bad))
        assert "donnez des codes distincts" in text and "Aucune erreur" not in text


@pytest.mark.parametrize(
    ("field", "value"),
    [("join_by", "drop"), ("delimiter", "\\x00"), ("encoding", "utf-7"),
     ("parent0_name", 3), ("parent9_names", "x")],
)  # fmt: skip
def test_forged_choices_are_refused(call, demo_app, tmp_path, field, value):
    data, _ = _upload(call, [f.write_cod_ab(tmp_path)])
    report, *_ = _job(call, demo_app, ids.IMP_CHECK, data,
                      columns=[((0, field), value)])  # fmt: skip
    assert "déposez-les à nouveau" in str(report)


def test_controls_follow_the_role_chosen(call, tmp_path):
    census = tmp_path / "localites.csv"
    census.write_bytes(LOCALITIES.encode("cp1252"))
    data, _ = _upload(call, [census])
    controls = call(cb.redraw_mapping, "centers", ids.imp_role(0), data, "fr")
    assert {"code", "name", "capacity_week", "delimiter"} <= _ids(controls)
    assert "join_by" not in _ids(controls)
    with pytest.raises(PreventUpdate):  # unchanged, unknown, or forged index
        call(cb.redraw_mapping, "population", ids.imp_role(0), data, "fr")
    with pytest.raises(PreventUpdate):
        call(cb.redraw_mapping, "../../etc", ids.imp_role(0), data, "fr")
    with pytest.raises(PreventUpdate):
        call(cb.redraw_mapping, "centers", {"type": "imp-role", "index": 7}, data, "fr")


def test_a_big_report_is_a_paginated_grid(call, tmp_path):
    from layouts import importer as lay

    records = [{"severity": "error"}] * 500 + [{"severity": "info"}]
    view = lay.report_view(records, [f"ligne {i}" for i in range(501)], None, "fr")
    grid = _find(view, ids.IMP_ISSUES)
    assert len(grid.rowData) == 501 and grid.dashGridOptions["pagination"]
    assert grid.rowData[-1]["level"] == "info"  # errors first


def test_a_viewer_cannot_redraw_the_mapping(call, tmp_path):
    from dashapp.auth import AccessDeniedError
    from data.users import Principal

    data, _ = _upload(call, [f.write_cod_ab(tmp_path)])
    with pytest.raises(AccessDeniedError):
        call(cb.redraw_mapping, "centers", ids.imp_role(0), data, "fr",
             user=Principal(9, "lecteur", "viewer"))  # fmt: skip


def test_three_boundary_files_each_mapped_on_screen(call, demo_app, tmp_path):
    from tests.unit.data.test_import_mapping import three_files

    regions, depts, communes = three_files(tmp_path, region_parent="name")
    data, children = _upload(call, [communes, regions, depts])
    assert [f["role"] for f in data["files"]] == ["boundaries"] * 3
    card = {name: _card(data, path.name)
            for name, path in (("communes", communes), ("regions", regions),
                               ("depts", depts))}  # fmt: skip
    columns = [((card["communes"], "code"), "id_com"),
               ((card["regions"], "code"), "reg_id"),
               ((card["depts"], "code"), "dep_code")]  # fmt: skip
    report, figure, table, _ = _job(call, demo_app, ids.IMP_CHECK, data,
                                    columns=columns)  # fmt: skip
    text = str(report)
    assert "Aucune erreur" in text, text
    assert "2 régions, 4 départements, 8 communes" in text
    assert "par son nom (la colonne parent contient des noms)" in text
    assert "par recouvrement des limites" in text
