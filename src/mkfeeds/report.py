"""How ``mkfeeds check`` tells its findings: as text lines, one JSON document, or GitHub
workflow annotations. Pure: findings in, text out; the CLI prints it.

Linters print findings on stdout (ruff, flake8, eslint), so ``check`` does too, in every
format; ``build`` keeps its problems on stderr, beside its summary on stdout.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from mkfeeds.model import Problem

FORMATS = ("text", "json", "github")


def plural(n: int, one: str, many: str | None = None) -> str:
    """``1 warning``, ``2 warnings``, ``1,000 entries``: the count (with thousands
    separators) and the word in the right number."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


@dataclass(frozen=True)
class CheckCounts:
    publishable: int
    withheld: int
    rejected: int
    errors: int
    warnings: int
    skipped: int = 0  # files left out of the build for a reason worth naming


@dataclass(frozen=True)
class Finding:
    """A problem as shown: its path relative to the working directory."""

    file: str
    severity: str
    message: str
    field: str | None
    line: int | None

    @classmethod
    def of(cls, problem: Problem, shown_path: str) -> Finding:
        return cls(shown_path, problem.severity, problem.message, problem.field, problem.line)

    def as_text(self) -> str:
        return str(Problem(self.severity, self.file, self.message, self.field, self.line))  # type: ignore[arg-type]  # severity is one of the two, read from a Problem


def summary(counts: CheckCounts) -> str:
    skipped = f", {plural(counts.skipped, 'file')} skipped" if counts.skipped else ""
    return (f"mkfeeds check: {counts.publishable:,} publishable, {counts.withheld:,} withheld, "
            f"{counts.rejected:,} rejected, {plural(counts.warnings, 'warning')}{skipped}")


def render(fmt: str, findings: list[Finding], counts: CheckCounts, *, quiet: bool = False,
           notices: tuple[str, ...] = (), skipped: tuple[tuple[str, str], ...] = ()) -> str:
    """Everything ``check`` prints on stdout, in ``fmt``. ``quiet`` keeps errors only
    (and, in text and github, drops the summary); the JSON document is always whole.
    ``notices`` (about the whole check: "no articles in ...") are the document's in JSON
    and annotations in github; the text format leaves them to stderr, as build does.
    ``skipped`` (file, reason) are listed by JSON only (the text format's -v lists them)."""
    if fmt == "json":
        return json_document(findings, counts, notices, skipped) + "\n"
    shown = [f for f in findings if f.severity == "error" or not quiet]
    lines = [github_annotation(f) if fmt == "github" else f.as_text() for f in shown]
    if fmt == "github" and not quiet:
        lines.extend(f"::warning title=mkfeeds::{_data(notice)}" for notice in notices)
    if not quiet:
        lines.append(summary(counts))
    return "".join(line + "\n" for line in lines)


def json_document(findings: list[Finding], counts: CheckCounts, notices: tuple[str, ...] = (),
                  skipped: tuple[tuple[str, str], ...] = ()) -> str:
    return json.dumps({
        "problems": [{"file": f.file, "line": f.line, "field": f.field, "severity": f.severity,
                      "message": f.message} for f in findings],
        "notices": list(notices),
        "skipped": [{"file": file, "reason": reason} for file, reason in skipped],
        "counts": {"publishable": counts.publishable, "withheld": counts.withheld, "rejected": counts.rejected,
                   "errors": counts.errors, "warnings": counts.warnings, "skipped": counts.skipped},
    }, indent=2, ensure_ascii=False)


def github_annotation(finding: Finding) -> str:
    """``::error file=F,line=L,title=T::MESSAGE``, escaped as GitHub's toolkit escapes."""
    properties = [f"file={_property(finding.file)}"]
    if finding.line:
        properties.append(f"line={finding.line}")
    title = f"mkfeeds: {finding.field}" if finding.field else "mkfeeds"
    properties.append(f"title={_property(title)}")
    return f"::{finding.severity} {','.join(properties)}::{_data(finding.message)}"


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
