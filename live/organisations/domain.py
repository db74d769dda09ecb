"""Names of public bodies as people type them: the normal form, the registry file, the match.

Contract:
- `name_key(text)` is the one normal form names are compared in: case, width and spacing
  folded, punctuation dropped, and the usual spellings of the suffixes made one
  ("fylkeskommune", "fylke", "FK", "fk." → "fylkeskommune"; "kommunen" → "kommune"). So
  "Innlandet fylkeskommune", " INNLANDET  fylke", "innlandet FK" and "Fylkeskommunen i
  Innlandet" share a key.
- `orgnr_of(text)` is the organisation number a text is (nine digits, spaces allowed).
- `parse_registry(text)` reads a registry file (`data/registry.csv`'s shape) completely or
  raises `RegistryError` listing every bad line by number: nothing is half-read.
- `decide(...)` says what a typed name is: one body (`Found`), one of several
  (`Ambiguous`: "Viken fylkeskommune" is now three), probably a known one (`Unsure`, with
  the suggestion to show), or nothing known (`Unknown`). Exact keys and aliases are
  certain; a close spelling (compared with æøå folded and the suffix apart), a bare place
  name ("Innlandet") or a known name with more words after it is only a suggestion, since
  the registrant may mean another body of that place.
"""

from __future__ import annotations

import csv
import difflib
import functools
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from live.models.people import OrganisationKind

REGISTRY_FILE = Path(__file__).parent / "data" / "registry.csv"
COLUMNS = ("kind", "number", "county", "orgnr", "name", "region", "aliases")
REGISTRY_KINDS = {
    OrganisationKind.COUNTY,
    OrganisationKind.MUNICIPALITY,
    OrganisationKind.COUNTY_GOVERNOR,
    OrganisationKind.MINISTRY,
    OrganisationKind.STATE_AGENCY,
}
NAME_MAX = 200
SUFFIXES = {
    "fylkeskommune": "fylkeskommune",
    "fylkeskommunen": "fylkeskommune",
    "fylke": "fylkeskommune",
    "fylket": "fylkeskommune",
    "fk": "fylkeskommune",
    "fylkeskomm": "fylkeskommune",
    "kommune": "kommune",
    "kommunen": "kommune",
}
BARE_SUFFIXES = ("fylkeskommune", "kommune")
# difflib ratio of the distinctive parts (suffix left out, letters folded) above which a
# typed name suggests a known one: "Inlandet" is close to "Innlandet", not to "Nordland".
CLOSE = 0.8
NORDIC = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ä": "a", "ö": "o"})


def name_key(text: str) -> str:
    """The normal form a name is compared in (see the module docstring)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    # Invisible format characters pasted from documents: zero-width space, soft hyphen, bidi marks.
    folded = "".join(c for c in folded if unicodedata.category(c) != "Cf")
    folded = re.sub(r"[.,;:()\[\]\"'«»/]+", " ", folded)
    words = [SUFFIXES.get(word, word) for word in folded.split()]
    if len(words) > 2 and words[0] in BARE_SUFFIXES and words[1] == "i":
        words = [*words[2:], words[0]]  # "Fylkeskommunen i Innlandet"
    return " ".join(words)


def loose(key: str) -> str:
    """A key with Norwegian letters and accents folded and hyphens as spaces (near misses)."""
    folded = key.translate(NORDIC).replace("-", " ")
    bare = "".join(c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(c))
    return " ".join(bare.split())


def _stem(key: str) -> tuple[str, str]:
    """(the distinctive part, the kind suffix or "") of a key; "fylkeskomune" is a suffix."""
    head, _, last = key.rpartition(" ")
    suffix = difflib.get_close_matches(last, BARE_SUFFIXES, n=1, cutoff=0.85) if head else []
    return (head, suffix[0]) if suffix else (key, "")


def orgnr_of(text: str) -> str | None:
    """The nine-digit organisation number `text` is, if it is one."""
    digits = re.sub(r"[\s.]", "", text)
    return digits if re.fullmatch(r"\d{9}", digits) else None


def orgnr_checks(number: str) -> bool:
    """Whether a nine-digit organisation number's last digit is its modulus 11 check digit."""
    total = sum(int(d) * w for d, w in zip(number[:8], (3, 2, 7, 6, 5, 4, 3, 2), strict=True))
    check = (11 - total % 11) % 11
    return check != 10 and check == int(number[8])


@dataclass(frozen=True)
class Entry:
    """One body of the registry file."""

    kind: OrganisationKind
    name: str
    number: str = ""
    county: str = ""
    orgnr: str | None = None
    region: str = ""
    aliases: tuple[str, ...] = ()

    def keys(self) -> set[str]:
        """Every key the body is known by: its name and its aliases."""
        return {name_key(self.name)} | {name_key(a) for a in self.aliases}


class RegistryError(ValueError):
    """A registry file with bad lines; `problems` are (line number, message)."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"line {n}: {m}" for n, m in problems))


def _entry(row: Mapping[str, str | None], line: int, problems: list[tuple[int, str]]) -> Entry | None:
    values = {k: (row.get(k) or "").strip() for k in COLUMNS}
    before = len(problems)
    if values["kind"] not in {str(k) for k in REGISTRY_KINDS}:
        problems.append((line, f"unknown kind {values['kind']!r}"))
    if not values["name"] or len(values["name"]) > NAME_MAX:
        problems.append((line, "a name of 1 to 200 characters is required"))
    problems += [(line, p) for p in _number_problems(values)]
    number = orgnr_of(values["orgnr"]) if values["orgnr"] else ""
    if number is None:
        problems.append((line, f"orgnr {values['orgnr']!r} is not 9 digits"))
    elif number and not orgnr_checks(number):
        problems.append((line, f"orgnr {number!r} fails its check digit (a typo?)"))
    if len(problems) > before:
        return None
    aliases = tuple(a.strip() for a in values["aliases"].split("|") if a.strip())
    return Entry(
        OrganisationKind(values["kind"]), values["name"], values["number"], values["county"],
        orgnr_of(values["orgnr"]) if values["orgnr"] else None, values["region"], aliases,
    )


def _number_problems(values: Mapping[str, str]) -> list[str]:
    """What is wrong with a line's numbers: a county has 2 digits, a municipality 4, and
    its county is the first two of them."""
    number, county, kind = values["number"], values["county"], values["kind"]
    width = {"county": 2, "municipality": 4}.get(kind)
    found = []
    if width is not None and not re.fullmatch(rf"\d{{{width}}}", number):
        found.append(f"a {kind} needs a number of {width} digits, not {number!r}")
    elif number and not re.fullmatch(r"\d{2}|\d{4}", number):
        found.append(f"number {number!r} is not 2 or 4 digits")
    if county and not re.fullmatch(r"\d{2}", county):
        found.append(f"county {county!r} is not 2 digits")
    elif width == 4 and len(number) == 4 and county != number[:2]:
        found.append(f"municipality {number!r} lies in county {number[:2]!r}, not {county!r}")
    return found


def _cross_problems(entries: list[tuple[int, Entry]]) -> list[tuple[int, str]]:
    """Lines that clash with others: a number twice, a municipality of a county not listed."""
    counties = {e.number for _, e in entries if e.kind == OrganisationKind.COUNTY}
    seen: dict[tuple[str, str], int] = {}
    problems = []
    for line, e in entries:
        if e.number and (e.kind, e.number) in seen:
            problems.append((line, f"number {e.number!r} is on line {seen[(e.kind, e.number)]} too"))
        seen.setdefault((e.kind, e.number), line)
        if e.kind == OrganisationKind.MUNICIPALITY and counties and e.county not in counties:
            problems.append((line, f"county {e.county!r} is not a county of the file"))
    return problems


def parse_registry(text: str) -> list[Entry]:
    """Every entry of a registry file, or `RegistryError` naming each bad line.

    Lines starting with `#` before the header (the file's source and date) are skipped;
    line numbers stay those of the file."""
    lines = text.splitlines(keepends=True)
    skipped = next((i for i, t in enumerate(lines) if not t.startswith("#")), len(lines))
    reader = csv.DictReader(io.StringIO("".join(lines[skipped:])))
    if reader.fieldnames is None or not {"kind", "name"} <= set(reader.fieldnames):
        raise RegistryError([(skipped + 1,
                              f"the header must name the columns {', '.join(COLUMNS)}")])
    entries: list[tuple[int, Entry]] = []
    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num + skipped
        if None in row:
            problems.append((line, "more fields than the header names"))
            continue
        entry = _entry(row, line, problems)
        if entry is None:
            continue
        for unique in (name_key(entry.name), entry.orgnr and f"orgnr {entry.orgnr}"):
            if unique and unique in seen:
                problems.append((line, f"{unique!r} is on line {seen[unique]} too"))
            elif unique:
                seen[unique] = line
        entries.append((line, entry))
    problems = sorted(problems + _cross_problems(entries))
    if problems:
        raise RegistryError(problems)
    if not entries:
        raise RegistryError([(1, "the file lists no organisations")])
    return [entry for _, entry in entries]


def read_registry(path: Path = REGISTRY_FILE) -> list[Entry]:
    """The registry shipped with Salen (or another file of its shape)."""
    return parse_registry(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Found:
    """The typed name is this body."""

    organisation_id: int


@dataclass(frozen=True)
class Ambiguous:
    """The typed name is one of these bodies (names to choose from)."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class Unsure:
    """The typed name is probably one of these (suggestions, best first)."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class Unknown:
    """No known body has this name."""


Decision = Found | Ambiguous | Unsure | Unknown


@dataclass
class Known:
    """The keys and numbers known bodies go by, with their display names (for `decide`)."""

    ids_by_key: dict[str, set[int]] = field(default_factory=dict)
    id_by_orgnr: dict[str, int] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)

    def add(self, organisation_id: int, name: str, keys: Iterable[str], orgnr: str | None) -> None:
        """Record one body under its keys and number."""
        self.__dict__.pop("loose_keys", None)  # derived below, made again when next needed
        self.names[organisation_id] = name
        for key in keys:
            self.ids_by_key.setdefault(key, set()).add(organisation_id)
        if orgnr:
            self.id_by_orgnr[orgnr] = organisation_id


    @functools.cached_property
    def loose_keys(self) -> dict[str, tuple[list[str], tuple[str, str]]]:
        """Per loose form of the known keys: those keys, and the form's stem and suffix
        (`_near`'s index, made once for all the names one index is asked about)."""
        found: dict[str, tuple[list[str], tuple[str, str]]] = {}
        for key in self.ids_by_key:
            folded = loose(key)
            found.setdefault(folded, ([], _stem(folded)))[0].append(key)
        return found


def _sorted_names(known: Known, ids: Iterable[int]) -> tuple[str, ...]:
    return tuple(sorted(known.names[i] for i in ids))


def decide(typed: str, known: Known) -> Decision:
    """What `typed` names among the `known` bodies (see the module docstring)."""
    number = orgnr_of(typed)
    if number is not None:
        found = known.id_by_orgnr.get(number)
        return Found(found) if found is not None else Unknown()
    key = name_key(typed)
    ids = known.ids_by_key.get(key, set())
    if len(ids) == 1:
        return Found(next(iter(ids)))
    if ids:
        return Ambiguous(_sorted_names(known, ids))
    bare = {i for suffix in BARE_SUFFIXES for i in known.ids_by_key.get(f"{key} {suffix}", set())}
    if bare:
        return Unsure(_sorted_names(known, bare))
    suggested = _names_of(known, _near(key, known))
    return Unsure(suggested[:3]) if suggested else Unknown()


def _names_of(known: Known, keys: Iterable[str]) -> tuple[str, ...]:
    """The display names of the bodies under `keys`, each once, in the keys' order."""
    names: list[str] = []
    for key in keys:
        names += [n for n in _sorted_names(known, known.ids_by_key[key]) if n not in names]
    return tuple(names)


def _near(key: str, known: Known) -> list[str]:
    """Known keys `key` probably means: the same letters folded, a known name with more
    words after it ("Innlandet fylkeskommune, avdeling for samferdsel"), or a near spelling
    of the distinctive part among bodies of the same suffix."""
    by_loose = known.loose_keys
    typed = loose(key)
    if typed in by_loose:
        return by_loose[typed][0]
    longer = [k for k in by_loose if typed.startswith(f"{k} ")]
    if longer:
        return by_loose[max(longer, key=len)][0]
    stem, suffix = _stem(typed)
    stems: dict[str, list[str]] = {}
    for folded, (keys, (known_stem, known_suffix)) in by_loose.items():
        if known_suffix == suffix:
            stems.setdefault(known_stem, []).extend(keys)
        elif not suffix:  # no suffix typed (or a misspelt one): whole names and bare places
            stems.setdefault(folded, []).extend(keys)
            stems.setdefault(known_stem, []).extend(keys)
    close = difflib.get_close_matches(stem, list(stems), n=3, cutoff=CLOSE)
    if stem in close:  # the same letters but for æøå: only that ("Vaga": Vågå, not Vågan)
        close = [stem]
    return [k for match in close for k in stems[match]]
