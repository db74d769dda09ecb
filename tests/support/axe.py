"""Accessibility check with axe-core (node_modules/axe-core, installed by `npm ci`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Page

AXE_SCRIPT = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = frozenset({"serious", "critical"})
AxeContext = str | dict[str, Any] | None

# Runs in the page; wrapped in a function so the script defines window.axe even under a
# strict Content-Security-Policy (evaluation through the DevTools protocol bypasses CSP).
_INSTALL = "(source) => { if (!window.axe) { (0, eval)(source); } return !!window.axe; }"
_RUN = """async ([context, options]) => {
  const results = await window.axe.run(context ?? document, options);
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map((n) => ({target: n.target, summary: n.failureSummary || ""})),
  }));
}"""


@dataclass(frozen=True)
class Violation:
    """One axe-core rule that failed, with the CSS targets of the offending nodes."""

    rule: str
    impact: str
    help: str
    help_url: str
    targets: tuple[str, ...]

    def describe(self) -> str:
        """Human-readable lines for an assertion message."""
        nodes = "\n".join(f"      {target}" for target in self.targets)
        return f"  [{self.impact}] {self.rule}: {self.help} ({self.help_url})\n{nodes}"


class AccessibilityError(AssertionError):
    """axe-core found serious or critical violations on the page."""

    def __init__(self, url: str, violations: list[Violation]) -> None:
        self.violations = violations
        lines = "\n".join(v.describe() for v in violations)
        super().__init__(f"{len(violations)} serious/critical axe violation(s) on {url}:\n{lines}")


def _axe_source() -> str:
    if not AXE_SCRIPT.is_file():
        raise FileNotFoundError(f"{AXE_SCRIPT} missing; run `npm ci` (scripts/test does)")
    return AXE_SCRIPT.read_text(encoding="utf-8")


def _target_text(target: Any) -> str:
    # axe targets are lists of selectors, nested when they cross iframes or shadow roots.
    return " >> ".join(json.dumps(t) if not isinstance(t, str) else t for t in target)


# Animations that end (a Designsystemet dialog fades in over 300 ms) are let finish first:
# mid-fade, text is partly transparent and axe reports its contrast as too low.
_SETTLE = """() => Promise.all(document.getAnimations()
  .filter((a) => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
  .map((a) => a.finished.catch(() => null)))"""


async def axe_violations(page: Page, *, context: AxeContext = None) -> list[Violation]:
    """Run axe-core on `page` (or the part named by `context`) and return every violation."""
    await page.evaluate(_SETTLE)
    await page.evaluate(_INSTALL, _axe_source())
    options = {"resultTypes": ["violations"]}
    raw = await page.evaluate(_RUN, [context, options])
    return [
        Violation(
            rule=item["id"],
            impact=item["impact"] or "unknown",
            help=item["help"],
            help_url=item["helpUrl"],
            targets=tuple(_target_text(node["target"]) for node in item["nodes"]),
        )
        for item in raw
    ]


async def assert_accessible(page: Page, *, context: AxeContext = None) -> None:
    """Fail listing every serious or critical axe-core violation on `page`."""
    violations = await axe_violations(page, context=context)
    failing = [v for v in violations if v.impact in FAILING_IMPACTS]
    if failing:
        raise AccessibilityError(page.url, failing)
