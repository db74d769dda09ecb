"""`salen organisations import FILE`: validated whole, loaded in one go."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select

from live.db import create_engine, sessionmaker
from live.models import Organisation
from live.organisations.domain import REGISTRY_FILE
from tests.test_cli import db, salen

__all__ = ["db"]


def count(url: str) -> int:
    async def run() -> int:
        engine = create_engine(url)
        async with sessionmaker(engine)() as session:
            n = await session.scalar(select(func.count()).select_from(Organisation)
                                     .where(Organisation.in_registry))
        await engine.dispose()
        return int(n or 0)
    return asyncio.run(run())


def test_upgrade_loads_and_import_replaces_the_registry(db: str, tmp_path: Path) -> None:
    """`db upgrade` loads the shipped 420 bodies once; an import replaces them; re-importing restores."""
    assert count(db) == 420
    small = tmp_path / "small.csv"
    small.write_text("kind,number,county,orgnr,name,region,aliases\n"
                     "county,34,34,,Innlandet fylkeskommune,,Hedmark fylkeskommune\n",
                     encoding="utf-8")
    result = salen("organisations", "import", str(small), db=db)
    assert result.returncode == 0, result.stderr
    assert "1 organisations" in result.stdout and count(db) == 1
    assert salen("db", "upgrade", db=db).returncode == 0 and count(db) == 1
    result = salen("organisations", "import", str(REGISTRY_FILE), db=db)
    assert "420 organisations" in result.stdout and count(db) == 420


def test_bad_file_names_lines_and_imports_nothing(db: str, tmp_path: Path) -> None:
    """A file with bad lines is refused with their numbers, and nothing of it is loaded."""
    bad = tmp_path / "bad.csv"
    bad.write_text("kind,number,county,orgnr,name,region,aliases\n"
                   "county,34,34,,Innlandet fylkeskommune,,\n"
                   "kommune,3437,34,,Sel kommune,,\n"
                   "municipality,3437,34,93961767,Lom kommune,,\n", encoding="utf-8")
    result = salen("organisations", "import", str(bad), db=db)
    assert result.returncode == 1
    assert "line 3: unknown kind 'kommune'" in result.stderr
    assert "line 4: orgnr '93961767' is not 9 digits" in result.stderr
    assert "Traceback" not in result.stderr
    assert count(db) == 420  # the shipped registry, untouched: nothing of the file was loaded
