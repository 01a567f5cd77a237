"""The command line: options -> settings -> build() -> summary. The only place that
turns errors into messages and exit codes."""

from __future__ import annotations

import logging
import os
import shlex
import sys
import traceback
from contextlib import contextmanager
from dataclasses import replace
from functools import partial
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, NoReturn

import click

from mkfeeds import __version__, launch
from mkfeeds.config import Settings, load_config
from mkfeeds.errors import Interrupted, MkfeedsError
from mkfeeds.model import Problem
from mkfeeds.text import printable

if TYPE_CHECKING:  # the pipeline is imported when a command runs: --version and --help stay fast
    from mkfeeds.build import BuildResult

EXIT_OK = 0  # every article published or deliberately withheld
EXIT_REJECTED = 1  # feeds written, but some articles were rejected (named on stderr)
EXIT_FAILED = 2  # nothing built: bad options or config, unreadable input, unwritable output, --strict
EXIT_PING_FAILED = 3  # a WebSub hub could not be told of a change (kept for the next ping); feeds as written
EXIT_INTERNAL = 70  # a bug in mkfeeds (EX_SOFTWARE); the traceback is printed
EXIT_INTERRUPTED = launch.EXIT_INTERRUPTED  # Ctrl-C (128 + SIGINT), as shells report it
PROGRESS_THRESHOLD = 2000  # files; smaller builds finish before a bar is worth drawing


def _options(func: Callable[..., Any], verbose_help: str = "Also list every file written, removed or skipped."
             ) -> Callable[..., Any]:
    """Options shared by ``build`` and ``check``; each mirrors a config key. ``-v``'s
    help says what the command lists (check writes nothing)."""
    decorators = [
        click.option("--input", "-i", "input_", type=click.Path(path_type=Path),
                     help="Folder of article files, walked recursively.  [default: seeds]"),
        click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
                     help="Config file.  [default: ./mkfeeds.toml, else [tool.mkfeeds] in ./pyproject.toml]"),
        click.option("--base-url", help="Public URL of the output folder, for the feeds' self links."),
        click.option("--site-url", help="The site's home page.  [default: the base URL]"),
        click.option("--drafts/--no-drafts", default=None, help="Include articles with published: false."),
        click.option("--future/--no-future", default=None,
                     help="Include articles dated after now (scheduled)."),
        click.option("--timezone", help="Time zone of dates written without an offset.  [default: UTC]"),
        click.option("--quiet", "-q", is_flag=True, default=None, help="Print nothing but errors."),
        click.option("--verbose", "-v", is_flag=True, default=None, help=verbose_help),
        click.option("--fail-on-warning/--no-fail-on-warning", default=None,
                     help="Treat an article's warning as a failure: check exits 1, build writes "
                          "nothing and exits 2 (as --strict does for a rejection)."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


class _BuildByDefault(click.Group):
    """``mkfeeds`` and ``mkfeeds --drafts ...`` mean ``mkfeeds build ...``, as in Hugo."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0].startswith("-") and args[0] not in ("-h", "--help", "-V", "--version")):
            args = ["build", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_BuildByDefault, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="mkfeeds")
def cli() -> None:
    """Publish a folder of articles as RSS 2.0, Atom 1.0 and JSON Feed 1.1.

    With no command, runs `mkfeeds build` (options included): seeds/ -> out/.

    \b
    Exit status:
      0  every article published or deliberately withheld
      1  feeds written, but some articles were rejected (named on stderr)
      2  nothing built (bad options or config, unwritable output, --strict,
         --fail-on-warning)
      3  feeds written, but a WebSub hub could not be told (build --ping, ping)
    """


@cli.command("build")
@_options
@click.option("--output", "-o", type=click.Path(path_type=Path, file_okay=False),
              help="Folder the feeds are written to.  [default: out]")
@click.option("--limit", type=click.IntRange(min=0), help="Entries per feed, newest first; 0 = all.  [default: 50]")
@click.option("--strict/--no-strict", default=None,
              help="Fail, writing nothing, if any article is rejected.")
@click.option("--cache", type=click.Path(path_type=Path, file_okay=False),
              help="Folder of the state that makes rebuilds cheap.  [default: ./.mkfeeds-cache]")
@click.option("--no-cache", is_flag=True, default=False, help="Build from scratch; do not read or write the cache.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), help="Worker processes for cold builds; 0 = all cores.")
@click.option("--archive/--no-archive", default=None,
              help="Also publish every entry in archive pages (RFC 5005) linked from each feed.")
@click.option("--ping", "ping_hubs", is_flag=True, default=False,
              help="After writing, tell the WebSub hubs (hub, hubs) of every feed that changed, as "
                   "`mkfeeds ping` does: for a site served straight from the output folder.")
def build_command(no_cache: bool = False, ping_hubs: bool = False, **options: Any) -> None:
    """Build the feeds from a folder of articles."""
    if no_cache:
        options["cache"] = False
    settings = _settings(options)
    now = datetime.now(timezone.utc)
    _warn_placeholder(settings)
    from mkfeeds.build import StrictFailure, build

    try:
        with _progress(settings) as bar:
            result = build(settings, now, progress=bar.update if bar else None,
                           listed=bar.listed if bar else None, stage=bar.stage if bar else None)
    except StrictFailure as failure:
        _print_problems(settings, failure.result.problems)
        _fail(str(failure))
    except MkfeedsError as exc:
        _fail(exc)
    try:  # the feeds are in place: an interrupt from here on must not say otherwise
        _print_problems(settings, result.problems)
        if not settings.quiet:
            for notice in result.notices:
                click.echo(f"mkfeeds: warning: {printable(notice)}", err=True)
        if settings.verbose:
            _list_skipped(settings, result)
            for name in result.files_written:
                click.echo(f"wrote {printable(str(settings.output / name))}", err=True)
            for name in result.files_removed:
                click.echo(f"removed {printable(str(settings.output / name))} (no longer published)", err=True)
            for name in result.leftovers_removed:
                click.echo(f"removed {printable(str(settings.output / name))} (left by a build that was stopped)",
                           err=True)
        if not settings.quiet:
            click.echo(summary_line(settings, result))
    except KeyboardInterrupt:
        raise Interrupted(published=result.written) from None
    ping_failed = False
    if ping_hubs:
        if settings.hub_urls:
            ping_failed = _ping(settings, dry_run=False)
        elif not settings.quiet:
            click.echo("mkfeeds: warning: --ping: no hub configured (set hub in mkfeeds.toml); no hub was told",
                       err=True)
    sys.exit(EXIT_REJECTED if result.rejected else EXIT_PING_FAILED if ping_failed else EXIT_OK)


@cli.command("ping")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Config file.  [default: ./mkfeeds.toml, else [tool.mkfeeds] in ./pyproject.toml]")
@click.option("--output", "-o", type=click.Path(path_type=Path, file_okay=False),
              help="Folder the feeds were written to.  [default: out]")
@click.option("--dry-run", is_flag=True, default=False, help="Print the requests that would be sent; send none.")
@click.option("--quiet", "-q", is_flag=True, default=None, help="Print nothing but errors.")
@click.option("--verbose", "-v", is_flag=True, default=None, help="Also list every notification sent.")
def ping_command(dry_run: bool = False, **options: Any) -> None:
    """Tell the WebSub hubs (hub, hubs) of every feed the builds since the last ping changed.

    Run it once the feeds are live (after the deploy step): a hub fetches a feed as soon
    as it is told. A notification that fails stays pending for the next ping; a ping with
    nothing changed since the last successful one sends nothing. Exits 3 if a hub could
    not be told.
    """
    settings = _settings(options)
    if not settings.hub_urls:
        _fail("no hub configured: set hub (or hubs) in mkfeeds.toml")
    sys.exit(EXIT_PING_FAILED if _ping(settings, dry_run=dry_run) else EXIT_OK)


def _ping(settings: Settings, *, dry_run: bool) -> bool:
    """One round of notifications, told on the terminal; True if one failed."""
    from mkfeeds import pings

    try:
        done = pings.ping(settings.output, settings.hub_urls, timeout=settings.ping_timeout,
                          backoff=settings.ping_backoff, dry_run=dry_run)
    except MkfeedsError as exc:
        _fail(str(exc))
    hubs = len({n.hub for n in done.due})
    feeds = _count(len({n.topic for n in done.due}), "feed file")
    if done.result is None:
        for notification in done.due:
            click.echo(f"would send: {notification}")
        if not settings.quiet:
            click.echo(f"mkfeeds ping: {_count(len(done.due), 'notification')} would be sent "
                       f"({_count(hubs, 'hub')}, {feeds}); dry run: nothing sent")
        return False
    for failure in done.result.failed:
        click.echo(f"mkfeeds: warning: {failure}", err=True)
    if settings.verbose:
        for notification in done.result.sent:
            click.echo(f"told {notification.hub} that {notification.topic} changed", err=True)
    if not settings.quiet:
        if not done.due:
            click.echo("mkfeeds ping: nothing to send: no feed changed since the last ping")
        else:
            click.echo(f"mkfeeds ping: {len(done.result.sent)} sent, {len(done.result.failed)} failed "
                       f"({_count(hubs, 'hub')}, {feeds})")
    return bool(done.result.failed)


@cli.command("check")
@partial(_options, verbose_help="Also list every file skipped because it is not an article.")
@click.option("--format", "format_", type=click.Choice(["text", "json", "github"]), default="text",
              show_default=True,
              help="text: FILE:LINE: SEVERITY: FIELD: MESSAGE lines; json: one document with every "
                   "problem and the counts; github: workflow annotations.")
def check_command(format_: str = "text", **options: Any) -> None:
    """Check every article as a build would, and write nothing (not even the cache).

    Prints each problem on stdout (FILE:LINE: SEVERITY: FIELD: MESSAGE in the text
    format), then a summary. Exits 1 if any article would be rejected (or, with
    --fail-on-warning, if any article draws a warning), 0 otherwise: use it in a content
    repository's CI.
    """
    settings = _settings(options)
    fail_on_warning = settings.fail_on_warning
    # check writes nothing, not even the cache; it reports what --strict would refuse
    settings = replace(settings, cache=None, strict=False, fail_on_warning=False)
    now = datetime.now(timezone.utc)
    from mkfeeds import report
    from mkfeeds.build import build

    try:
        with _progress(settings) as bar:
            result = build(settings, now, write=False, progress=bar.update if bar else None,
                           listed=bar.listed if bar else None, stage=bar.stage if bar else None)
    except MkfeedsError as exc:
        _fail(exc)
    findings = [report.Finding.of(p, _shown_path(settings, p.path)) for p in result.problems]
    warnings = sum(p.severity == "warning" for p in result.problems)
    counts = report.CheckCounts(result.published, result.withheld, result.rejected,
                                sum(p.severity == "error" for p in result.problems), warnings, len(result.skipped))
    if format_ == "text" and not settings.quiet:
        for notice in result.notices:
            click.echo(f"mkfeeds: warning: {notice}", err=True)
    if settings.verbose and format_ != "json":
        _list_skipped(settings, result)
    skipped = tuple((_shown_path(settings, item.rel), item.reason) for item in result.skipped)
    click.echo(report.render(format_, findings, counts, quiet=bool(settings.quiet), notices=tuple(result.notices),
                             skipped=skipped), nl=False)
    sys.exit(EXIT_REJECTED if result.rejected or (fail_on_warning and warnings) else EXIT_OK)


@cli.command("init")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False), default=".", required=False)
def init_command(folder: Path) -> None:
    """Start a feed folder: a commented mkfeeds.toml and one example article.

    Writes FOLDER/mkfeeds.toml (every key, with its default) and
    FOLDER/articles/hello-mkfeeds.md (FOLDER: the current folder unless given), then
    says what to run next. Never overwrites a file: if either exists, writes nothing.
    """
    from mkfeeds import init

    try:
        created = init.create(folder, datetime.now(timezone.utc).date())
    except MkfeedsError as exc:
        _fail(exc)
    here = folder.resolve() == Path.cwd().resolve()
    where = "" if here else f" in {folder.as_posix()}/"
    config = init.CONFIG_FILE if here else f"{folder.as_posix()}/{init.CONFIG_FILE}"
    command = "mkfeeds build" if here else f"cd {shlex.quote(folder.as_posix())} && mkfeeds build"
    click.echo(f"mkfeeds: created {' and '.join(created)}{where}")
    click.echo(f"next: set title and base-url in {config}, then run: {command}")


@cli.command("serve")
@click.option("--bind", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port to listen on; 0 picks a free one (printed when ready).")
@click.option("--watch/--no-watch", default=True, show_default=True,
              help="Rebuild when an article or the config file changes.")
def serve_command(bind: str, port: int, watch: bool, no_cache: bool = False, **options: Any) -> None:
    """Build, then serve the output folder over HTTP for previewing (not for production).

    Prints one line when ready, `Serving http://127.0.0.1:8000/ ...`; with -v, one per
    request. With --watch (the default) each change rebuilds and prints one line. Ctrl-C
    stops it (exit 0).
    """
    import itertools
    import signal
    import threading

    from mkfeeds import serve, watch as watching
    from mkfeeds.build import StrictFailure

    if no_cache:
        options["cache"] = False
    config_file = options.get("config_file")
    given = dict(options)
    try:
        session = watching.Session(lambda: _load(given))
    except MkfeedsError as exc:
        _fail(str(exc))
    settings = session.settings
    try:
        server = serve.PreviewServer((bind, port), serve.Site(settings.output, _feed_files(settings), watch),
                                     log=_echo_line if settings.verbose else None)
    except OSError as exc:
        _fail(f"cannot listen on {bind} port {port} ({exc.strerror or exc}); "
              + ("pass another --port, or --port 0 for a free one" if port else "check --bind"))
    if not serve.is_loopback(bind):
        click.echo(f"mkfeeds: warning: serving on {bind}, beyond this machine: this is a preview server, "
                   "not a production one", err=True)
    _warn_placeholder(settings)
    signal.signal(signal.SIGTERM, lambda *_: _raise_interrupt())
    try:  # a Ctrl-C here is the build's: exit 130, as build's
        result = session.first_build()
        collector = ServingCollector()
    except StrictFailure as failure:
        _print_problems(settings, failure.result.problems)
        _fail(str(failure))
    except MkfeedsError as exc:
        _fail(str(exc))
    _print_problems(settings, result.problems)
    if not settings.quiet:
        for notice in result.notices:
            click.echo(f"mkfeeds: warning: {printable(notice)}", err=True)
        click.echo(summary_line(settings, result))
    try:
        threading.Thread(target=server.serve_forever, name="mkfeeds-serve", daemon=True).start()
        if not watch:
            _echo_line(f"Serving {server.url} ... (Ctrl-C to stop)")
            threading.Event().wait()
        stop = threading.Event()
        from mkfeeds.watch import changes, config_candidates

        turns = changes(session, config_candidates(config_file), stop)
        first = next(turns)  # the watcher is up: no change made from now on is missed
        with collector.rebuilding():
            caught = session.catch_up()  # before the ready line: ready means caught up
        if caught is not None:
            _tell_rebuild(session.settings, caught)
        _echo_line(f"Serving {server.url} ... (Ctrl-C to stop)")
        for change in itertools.chain([first], turns):
            if change.notice and not session.settings.quiet:
                click.echo(f"mkfeeds: warning: {printable(change.notice)}", err=True)
            paths = session.concerning(change.paths)  # not an editor's swap or temp file
            if paths or change.config or change.clock:
                with collector.rebuilding():
                    rebuilt = session.rebuild(paths, config_changed=change.config)
                serving = (session.settings.output, _feed_files(session.settings))
                if rebuilt.result is not None and serving != (server.site.root, server.site.feed_files):
                    server.site = serve.Site(*serving, watch)  # the config moved or renamed the feeds
                _tell_rebuild(session.settings, rebuilt)
    except KeyboardInterrupt:
        server.server_close()
        click.echo("mkfeeds: stopped", err=True)
        sys.exit(EXIT_OK)


class ServingCollector:
    """The garbage collector of a serving process. Its builds' memory (a few objects per
    article, hundreds of thousands of them, without cycles) lives as long as the process:
    left to the collector, each collection during a rebuild walks it again, and each
    rebuild's new lists of every article, which costs more than the rebuild itself. So
    what is alive after a build is moved out of the collector's sight (``gc.freeze``;
    objects without cycles are still freed when no longer used), a rebuild runs with
    young collections spaced out, and every ``FULL_EVERY`` rebuilds everything is
    collected once. A process-wide choice, made by the command, not the library."""

    FULL_EVERY = 100
    SPACED = 100_000  # allocations between young collections during a rebuild

    def __init__(self) -> None:
        import gc

        self.gc, self.rebuilds = gc, 0
        gc.collect()
        gc.freeze()

    @contextmanager
    def rebuilding(self) -> Iterator[None]:
        gc = self.gc
        thresholds = gc.get_threshold()
        gc.set_threshold(max(thresholds[0], self.SPACED), *thresholds[1:])
        try:
            yield
        finally:
            gc.set_threshold(*thresholds)
            self.rebuilds += 1
            if self.rebuilds % self.FULL_EVERY == 0:
                gc.unfreeze()
                gc.collect()
            else:
                gc.collect(1)
            gc.freeze()


serve_command.params[:0] = [param for param in build_command.params  # every build option, as build has it
                             if param.name != "ping_hubs"]  # (a preview is not published: no hub is told)


def _raise_interrupt() -> NoReturn:
    raise KeyboardInterrupt


def _load(options: dict[str, Any]) -> Settings:
    """The settings again (the config file may have changed); a config that does not
    load is an error the caller reports."""
    from mkfeeds.config import load_config

    options = dict(options)
    config_file = options.pop("config_file", None)
    overrides = {name.rstrip("_").replace("_", "-"): value for name, value in options.items()}
    return load_config(config_file, overrides, Path.cwd())


def _feed_files(settings: Settings) -> dict[str, str]:
    return {settings.rss_file: "rss", settings.atom_file: "atom", settings.json_file: "json"}


def _echo_line(line: str) -> None:
    click.echo(line)
    sys.stdout.flush()


def _tell_rebuild(settings: Settings, rebuild: Any) -> None:
    """One line per rebuild: what changed, what was written, how long it took; the
    problems of the files that changed (the others' were told already)."""
    changed = rebuild.changed
    what = (", ".join(changed[:3]) + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
            if changed else "the config or the clock")
    took = f"{rebuild.seconds * 1000:.0f} ms"
    if rebuild.error is not None:
        click.echo(f"mkfeeds: error: {rebuild.error}; still serving the last good feeds", err=True)
        return
    result = rebuild.result or rebuild.refused
    inputs = {str(Path(path).resolve()) for path in changed}
    _print_problems(settings, [p for p in result.problems
                               if rebuild.refused is not None and p.severity == "error"
                               or str((settings.input / p.path).resolve()) in inputs])
    if settings.quiet:
        return
    if rebuild.refused is not None:
        _echo_line(f"mkfeeds: {what} changed: not published, an article is rejected (above); "
                   f"still serving the last good feeds ({took})")
        return
    written = result.files_written
    folders = sorted({name.rpartition("/")[0] + "/" if "/" in name else "./" for name in written})
    where = ", ".join(folders[:3]) + (f" and {len(folders) - 3} more" if len(folders) > 3 else "")
    removed = f", {len(result.files_removed)} removed" if result.files_removed else ""
    _echo_line(f"mkfeeds: {what} changed: {_count(len(written), 'file')} written"
               f"{' in ' + where if written else ''}{removed}, {len(result.files_unchanged)} unchanged; "
               f"{result.rejected} rejected ({took})")


def _settings(options: dict[str, Any]) -> Settings:
    if options.get("quiet") and options.get("verbose"):
        raise click.UsageError("-q/--quiet and -v/--verbose cannot be used together")
    if options.get("quiet") or options.get("verbose"):  # one given here outweighs the other in a config
        options["verbose" if options.get("quiet") else "quiet"] = False
    config_file = options.pop("config_file", None)
    overrides = {name.rstrip("_").replace("_", "-"): value for name, value in options.items()}
    try:
        settings = load_config(config_file, overrides, Path.cwd())
    except MkfeedsError as exc:
        _fail(exc)
    if settings.quiet and settings.verbose:
        _fail("quiet and verbose are both true in the config", "keep one of them, or pass -q or -v")
    return settings


def _fail(error: str | MkfeedsError, hint: str | None = None, code: int = EXIT_FAILED) -> NoReturn:
    """Every error looks alike: ``mkfeeds: error: WHAT``, then ``mkfeeds: hint: HOW``."""
    click.echo(f"mkfeeds: error: {printable(str(error))}", err=True)
    hint = hint or getattr(error, "hint", None)
    if hint:
        click.echo(f"mkfeeds: hint: {hint}", err=True)
    sys.exit(code)


def _list_skipped(settings: Settings, result: BuildResult) -> None:
    """-v: the files that are not articles (the others drew a warning already)."""
    for item in result.skipped:
        if item.not_an_article:
            click.echo(f"skipped {_shown_path(settings, item.rel)} ({item.reason})", err=True)


def _show_click_error(exc: click.ClickException) -> None:
    """click's usage errors in mkfeeds' own style: ``mkfeeds: error: ...``, then a hint."""
    message = exc.format_message()
    ctx = getattr(exc, "ctx", None)
    help_hint = f"see '{ctx.command_path if ctx else 'mkfeeds'} --help'"
    if isinstance(exc, click.NoSuchOption):
        message = f"no such option: {exc.option_name}"
        if exc.possibilities:
            help_hint = f"did you mean {exc.possibilities[0]}? ({help_hint})"  # the closest (click sorts them)
    elif ". Did you mean " in message:  # "No such command 'chek'. Did you mean 'check'?"
        message, guess = message.split(". Did you mean ", 1)
        help_hint = f"did you mean {guess.rstrip('?')}? ({help_hint})"
    message = message.rstrip(".")
    click.echo(f"mkfeeds: error: {message[:1].lower()}{message[1:]}", err=True)
    click.echo(f"mkfeeds: hint: {help_hint}", err=True)


def _warn_placeholder(settings: Settings) -> None:
    if settings.uses_placeholder_url and not settings.quiet:
        click.echo(
            f"mkfeeds: warning: no base-url configured; self links use the placeholder "
            f"{settings.base_url} (set base-url in mkfeeds.toml or pass --base-url)",
            err=True,
        )


class ProgressBar:
    """click's bar on stderr, drawn once the build has listed the articles and only if
    there are enough of them to be worth it (the build lists them once, for itself)."""

    def __init__(self) -> None:
        self.bar: Any = None
        self.drawn = False  # a bar was drawn: the stages after it are told too

    def listed(self, total: int) -> None:
        if total >= PROGRESS_THRESHOLD and self.bar is None:
            self.bar = click.progressbar(length=total, label=f"Reading {total:,} articles", file=sys.stderr)
            self.bar.__enter__()
            self.drawn = True

    def stage(self, what: str) -> None:
        """The stage after reading ("rendering 110 feeds", "writing"), on a line of its own."""
        if self.drawn:
            self.close()
            click.echo(f"mkfeeds: {what}...", err=True)

    def update(self, done: int) -> None:
        if self.bar is not None:
            self.bar.update(done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@contextmanager
def _progress(settings: Settings) -> Iterator[ProgressBar | None]:
    if settings.quiet or not sys.stderr.isatty():
        yield None
        return
    bar = ProgressBar()
    try:
        yield bar
    finally:
        bar.close()


def _shown_path(settings: Settings, rel: str) -> str:
    """An article's path as every message shows it: relative to the working directory."""
    return (settings.input / rel).as_posix()


def _format(settings: Settings, problem: Problem) -> str:
    shown = Problem(problem.severity, _shown_path(settings, problem.path), problem.message,
                    problem.field, problem.line)
    return str(shown)


def _print_problems(settings: Settings, problems: list[Problem]) -> None:
    for problem in problems:
        if problem.severity == "error" or not settings.quiet:
            click.echo(_format(settings, problem), err=True)


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def summary_line(settings: Settings, result: BuildResult) -> str:
    """The build's summary: a headline that fits 100 columns, then the details."""
    from mkfeeds.summary import summary

    return summary(settings.output, result)


def main() -> None:
    """The ``mkfeeds`` command: the CLI, then an exit without Python's teardown."""
    try:
        _main()
    except SystemExit as done:
        _exit_at_once(done.code)
    _exit_at_once(EXIT_OK)


def interrupted_state(cause: BaseException | None) -> str:
    """What a Ctrl-C left on disk, as the build knew it (``Interrupted``); an interrupt
    the build did not see came before it wrote anything, or after a command that writes
    nothing."""
    if isinstance(cause, Interrupted) and cause.published:
        return "the new feeds are in place (the next build finishes tidying up)"
    return "nothing was published; the previous feeds are as they were"


def _exit_at_once(code: object) -> None:
    """End the process without Python's orderly teardown, which frees every object a
    build made one by one (0.25 s after a rebuild of 100,000 articles) just before the
    exit frees them all at once. What must outlive the process already has: the output
    files are fsynced and renamed, the cache committed and closed, the worker pools shut
    down. Only the standard streams and logging are left to flush."""
    if code is None:
        code = EXIT_OK
    elif not isinstance(code, int):  # sys.exit("message"), as Python would show it
        print(code, file=sys.stderr)
        code = 1
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more to tell
            pass
    os._exit(code)


def _main() -> None:
    try:
        cli.main(prog_name="mkfeeds", standalone_mode=False)
    except click.exceptions.Abort as abort:  # Ctrl-C: not "some articles rejected"
        click.echo(f"mkfeeds: interrupted; {interrupted_state(abort.__cause__)}", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:  # usage errors: nothing built
        _show_click_error(exc)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except SystemExit:
        raise
    except Exception:  # a bug: keep the traceback, with a distinct exit status
        traceback.print_exc()
        click.echo("mkfeeds: internal error (a bug in mkfeeds); please report it with the traceback above",
                   err=True)
        sys.exit(EXIT_INTERNAL)
