"""The root `haowu` command: global options, subcommands, and errors mapped to exit codes.

`main()` runs the app and turns what goes wrong into one clear message and a documented exit
code (`errors.ExitCode`); the commands themselves only parse, call the core and print.
"""

import copy
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO, TextIO

import typer
import typer.main
from typer.exceptions import Abort, Exit, TyperException

from haowu_cli.commands import (
    activities,
    commission,
    demo,
    grading,
    importing,
    live,
    matching,
    merchants,
    planning,
    products,
    reconcile,
    reports,
    team,
)
from haowu_cli.commands.common import AppContext
from haowu_cli.config import resolve_config_dir
from haowu_cli.errors import ExitCode, HaowuError, is_interrupt
from haowu_cli.i18n import (
    DEFAULT_LANGUAGE,
    ENV_VAR,
    N_,
    Language,
    _,
    normalise,
    set_language,
)
from haowu_cli.render import Output
from haowu_cli.store import DEFAULT_LOCK_TIMEOUT
from haowu_cli.typer_values import install as parse_values_without_pydantic

if TYPE_CHECKING:
    from typer._click.core import Command, Context
    from typer._click.exceptions import UsageError
    from typer._click.formatting import HelpFormatter
    from typer.core import TyperOption

parse_values_without_pydantic()


def speak_through_typer() -> None:
    """Typer writes its own texts in the help and usage errors (Options, Commands, [default:
    …], [required]) through the stdlib's gettext; point its modules at haowu's catalog, which
    holds those texts too (`i18n_extract.TYPER_MODULES`)."""
    import typer._click.parser
    import typer.core

    from haowu_cli.i18n import ngettext

    for module in (typer.core, typer._click.parser):
        module._ = _  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]
    speak_for_click()


# What Typer's own copy of Click writes with no gettext at all, said in the language in use:
# the help option's text, the usage line's prefix and the usage errors (`show_usage_error`).
HELP_OPTION_TEXT = N_("Show this message and exit.")
COMPLETION_TEXTS = (  # Typer's completion options: translated with every option's help
    N_("Install completion for the current shell."),
    N_("Show completion for the current shell, to copy it or customize the installation."),
)
# The reasons Typer gives for the option values people most often mistype (extracted here,
# translated in `show_usage_error`; any other reason is shown as Typer words it).
VALUE_REASONS = (
    N_("Input should be a valid integer, unable to parse string as an integer"),
    N_("Input should be a valid number, unable to parse string as a number"),
)


def speak_for_click() -> None:
    from typer._click.core import Command
    from typer._click.formatting import HelpFormatter

    get_help_option, write_usage = Command.get_help_option, HelpFormatter.write_usage

    def help_option(self: "Command", ctx: "Context") -> "TyperOption | None":
        option = get_help_option(self, ctx)
        if option is not None:
            option.help = _(HELP_OPTION_TEXT)
        return option

    def usage(self: "HelpFormatter", prog: str, args: str = "", prefix: str | None = None) -> None:
        write_usage(self, prog, args, _("Usage: ") if prefix is None else prefix)

    Command.get_help_option = help_option  # type: ignore[method-assign]
    HelpFormatter.write_usage = usage  # type: ignore[method-assign]


def show_usage_error(exc: "UsageError", out: Output) -> None:
    """A usage error (an unknown option, a missing argument, a value of the wrong kind) as
    Click shows it, in the language in use: the usage line, where to find help, the error."""
    from typer._click.exceptions import BadParameter, MissingParameter, NoSuchOption

    ctx = getattr(exc, "ctx", None)
    lines = []
    if ctx is not None:
        lines.append(ctx.get_usage())
        if ctx.command.get_help_option(ctx) is not None:
            lines.append(
                _("Try '{command} {option}' for help.").format(
                    command=ctx.command_path, option=ctx.help_option_names[0]
                )
            )
        lines.append("")
    if isinstance(exc, NoSuchOption):
        message = _("No such option: {name}").format(name=exc.option_name)
        if exc.possibilities:
            message += " " + _("(Possible options: {names})").format(
                names=", ".join(sorted(exc.possibilities))
            )
    elif isinstance(exc, MissingParameter):
        hint = exc.param.get_error_hint() if exc.param is not None else ""
        kind = {"argument": _("argument"), "option": _("option")}.get(
            exc.param.param_type_name if exc.param is not None else "", _("parameter")
        )
        message = _("Missing {kind} {name}.").format(kind=kind, name=hint).replace(" .", ".")
    elif isinstance(exc, BadParameter) and exc.param is not None:
        message = _("Invalid value for {name}: {reason}").format(
            name=exc.param.get_error_hint(), reason=_(exc.message)
        )
    else:
        message = exc.format_message()
    lines.append(_("Error: {message}").format(message=message))
    print("\n".join(lines), file=sys.stderr)


speak_through_typer()

app = typer.Typer(
    name="haowu",
    help=N_(
        "Tools for 快分销 team leaders and merchants: import product sheets, grade "
        "products L0–L5, plan live sessions, split commissions, report, list and export them. "
        "The options below may also follow the command name: haowu grade --quiet."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


# Whether --traceback was given, for errors raised before or after the root callback runs.
_state = {"traceback": "--traceback" in sys.argv}


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        sys.stdout.write(f"haowu {version('haowu')}\n")
        raise Exit(ExitCode.OK)


def _from_env(ctx: typer.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source.name == "ENVIRONMENT"


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        Path, typer.Option("--db", envvar="HAOWU_DB", help=N_("The haowu database file."))
    ] = Path("haowu.duckdb"),
    data_path: Annotated[
        str | None,
        typer.Option(
            "--data-path",
            envvar="HAOWU_DATA_PATH",
            help=N_(
                "Team mode (--db ducklake:postgres:CONNINFO): the shared folder of the "
                "lake's data files."
            ),
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            envvar="HAOWU_CONFIG",
            help=N_(
                "Folder of YAML settings [default: ./configs when present, else the "
                "packaged defaults]."
            ),
        ),
    ] = None,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help=N_("Print nothing but errors and the warnings that need a person (for cron)."),
        ),
    ] = False,
    traceback: Annotated[
        bool,
        typer.Option("--traceback", help=N_("Show the full traceback of an unexpected error.")),
    ] = False,
    lock_timeout: Annotated[
        float,
        typer.Option(
            "--lock-timeout",
            min=0,
            help=N_("Seconds to wait while another haowu command is writing to the database."),
        ),
    ] = DEFAULT_LOCK_TIMEOUT,
    lang: Annotated[
        Language,
        typer.Option(
            "--lang",
            envvar=ENV_VAR,
            help=N_("Language of what people read: zh (中文, the default) or en."),
        ),
    ] = Language.zh,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            is_eager=True,
            expose_value=False,
            callback=_print_version,
            help=N_("Print haowu's version and exit."),
        ),
    ] = False,
) -> None:
    _state["traceback"] = traceback
    set_language(lang)
    given_by = "HAOWU_CONFIG" if _from_env(ctx, "config") else "--config"
    ctx.obj = AppContext(
        db=db,
        config_dir=resolve_config_dir(config, given_by=given_by),
        quiet=quiet,
        traceback=traceback,
        lock_timeout=lock_timeout,
        out=Output(quiet=quiet),
        data_path=data_path,
    )


app.command("import")(importing.import_command)
app.command("products")(products.products_command)
app.command("anchors")(products.anchors_command)
app.add_typer(grading.grade_app, name="grade")
app.command("plan-session")(planning.plan_session_command)
app.add_typer(planning.sessions_app, name="sessions")
app.add_typer(products.export_app, name="export")
products.export_app.command("run-sheet")(planning.export_run_sheet_command)
app.command("commission")(commission.commission_command)
products.export_app.command("ledger")(commission.export_ledger_command)
products.export_app.command("orders")(commission.export_orders_command)
app.add_typer(reports.report_app, name="report")
app.command("reconcile")(reconcile.reconcile_command)
app.command("demo")(demo.demo_command)
app.add_typer(live.live_app, name="live")
app.add_typer(activities.activity_app, name="activity")
app.add_typer(merchants.merchants_app, name="merchants")
app.add_typer(matching.match_app, name="match")
app.add_typer(team.team_app, name="team")


def main(argv: list[str] | None = None) -> int:
    """Run haowu; return (and exit with) its exit code."""
    # Polars' allocator keeps freed memory for seconds by default; a one-shot command would
    # rather hand it back at once, so a million-row import stays well under 1 GB.
    os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:0,muzzy_decay_ms:0")
    code = run(argv)
    try:
        sys.stdout.flush()  # here, not at exit: a reader gone by now is a normal end too
    except BrokenPipeError:
        _silence_stdout()
    sys.exit(code)


_INTERRUPTED = N_("interrupted: what was being written was rolled back")

# Options of the root command that may also be written after the command name, and whether
# each takes a value.
GLOBAL_OPTIONS = {
    "--db": True,
    "--data-path": True,
    "--config": True,
    "--lock-timeout": True,
    "--quiet": False,
    "-q": False,
    "--traceback": False,
    "--lang": True,
}


def hoist_global_options(argv: list[str], root: "Command") -> list[str]:
    """`argv` with the global options written after the command name (`haowu grade -q`)
    moved to just before it (`haowu -q grade`), where the root command reads them.

    Walks the command tree of `root` (a Click group) as Click will: each command's own
    options keep their place, with their values (so `--search --quiet` searches for
    "--quiet", and `demo --db` stays the demo's own option); everything after `--` stays.
    A global option given both before and after the name: the later one wins, as usual."""
    command, out, hoisted, insert_at = root, [], [], None
    index = 0
    while index < len(argv):
        token = argv[index]
        if token == "--":
            out.extend(argv[index:])
            break
        own = _options_of(command)
        name, attached = _option_name(token)
        if name is None:  # an argument, or the name of a subcommand
            subcommands = getattr(command, "commands", None)
            if subcommands and token in subcommands:
                if insert_at is None:
                    insert_at = len(out)
                command = subcommands[token]
            out.append(token)
            index += 1
            continue
        width = 2 if own.get(name, GLOBAL_OPTIONS.get(name)) and not attached else 1
        taken = argv[index : index + width]
        complete = len(taken) == width  # `products --db` (no value): left for Click to refuse
        if command is not root and name in GLOBAL_OPTIONS and name not in own and complete:
            hoisted.extend(taken)
        else:
            out.extend(taken)
        index += width
    if insert_at is None or not hoisted:
        return list(argv)
    return out[:insert_at] + hoisted + out[insert_at:]


def choose_language(argv: list[str]) -> None:
    """Speak the language `--lang` (anywhere before `--`) or `HAOWU_LANG` names, before the
    command tree is built, so that `--help` and the usage errors speak it too. A code haowu
    does not speak is left for the `--lang` option to refuse (exit 2), in the default
    language."""
    code = os.environ.get(ENV_VAR)
    for index, token in enumerate(argv):
        if token == "--":
            break
        if token == "--lang" and index + 1 < len(argv):
            code = argv[index + 1]
        elif token.startswith("--lang="):
            code = token.partition("=")[2]
    set_language(normalise(code) or DEFAULT_LANGUAGE)


def only_the_command(root: typer.Typer, argv: list[str]) -> typer.Typer:
    """`root` with only the subcommand `argv` names (after the global options), when it names
    one: Typer builds every command's parameters from its signature at each start, about
    20 ms for the whole tree, and a command needs only its own. Anything else (no command,
    `--help`, a misspelt name that Click suggests a match for) gets the whole tree."""
    name = _command_named(argv)
    commands = [info for info in root.registered_commands if info.name == name]
    groups = [info for info in root.registered_groups if info.name == name]
    if name is None or not (commands or groups):
        return root
    narrow = copy.copy(root)
    narrow.registered_commands, narrow.registered_groups = commands, groups
    return narrow


def _command_named(argv: list[str]) -> str | None:
    """The first word of `argv` that is not a global option or its value."""
    index = 0
    while index < len(argv):
        token = argv[index]
        if token == "--":
            return None
        name, attached = _option_name(token)
        if name is None:
            return token
        index += 2 if GLOBAL_OPTIONS.get(name) and not attached else 1
    return None


def translate_command_tree(command: "Command") -> "Command":
    """`command` (the Click command Typer built) with every help text in the language in use:
    the texts are English ids, marked `N_` (options, groups) or written as the command's
    docstring (extracted by `haowu_cli.i18n_extract`)."""
    if command.help:
        command.help = _(command.help)
    if command.short_help:
        command.short_help = _(command.short_help)
    for param in getattr(command, "params", []):
        if getattr(param, "help", None):
            param.help = _(param.help)
    for sub in getattr(command, "commands", {}).values():
        translate_command_tree(sub)
    return command


def _option_name(token: str) -> tuple[str | None, bool]:
    """(the option `token` names, whether its value is attached: `--db=x`, `-fjson`), or
    (None, False) when `token` is not an option."""
    if token.startswith("--") and len(token) > 2:
        name, equals, _ = token.partition("=")
        return name, bool(equals)
    if token.startswith("-") and len(token) > 1 and not token[1].isdigit():
        return token[:2], len(token) > 2
    return None, False


def _options_of(command: "Command") -> dict[str, bool]:
    """Every option name of `command` (a Click command), and whether it takes a value."""
    names: dict[str, bool] = {}
    for param in getattr(command, "params", []):
        if getattr(param, "param_type_name", "") != "option":
            continue
        takes_value = not (getattr(param, "is_flag", False) or getattr(param, "count", False))
        for name in [*param.opts, *param.secondary_opts]:
            names[name] = takes_value
    return names


class OutputClosed(Exception):
    """Whoever read stdout has gone (`haowu … | head`): a normal end, not an error."""


class _ClosedPipeGuard:
    """stdout, but a closed pipe raises `OutputClosed` rather than `BrokenPipeError`, which
    Rich and Typer would each turn into exit 1 on their own."""

    def __init__(self, stream: TextIO | BinaryIO) -> None:
        self._stream: Any = stream  # text, or the bytes beneath it (`buffer`)

    def write(self, text: Any) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError as exc:
            raise OutputClosed from exc

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    @property
    def buffer(self) -> "_ClosedPipeGuard":
        """The binary stream beneath, guarded the same way (JSON rows are written as bytes)."""
        return _ClosedPipeGuard(self._stream.buffer)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError as exc:
            raise OutputClosed from exc

    def __getattr__(self, name: str) -> Any:  # everything else, as the stream has it
        return getattr(self._stream, name)


def _silence_stdout() -> None:
    """Point file descriptor 1 at the null device, so that what is still buffered for a
    reader who has gone is dropped quietly at exit (Python's documented way, "Note on
    SIGPIPE")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor (a test's stream)
        pass


def run(argv: list[str] | None = None) -> int:
    out = Output(quiet=False)
    stdout = sys.stdout
    sys.stdout = _ClosedPipeGuard(stdout)
    try:
        return _run(argv, out)
    except OutputClosed:
        sys.stdout = stdout
        _silence_stdout()
        return ExitCode.OK
    finally:
        sys.stdout = stdout


def _run(argv: list[str] | None, out: Output) -> int:
    try:
        args = sys.argv[1:] if argv is None else list(argv)
        choose_language(args)
        command = translate_command_tree(typer.main.get_command(only_the_command(app, args)))
        args = hoist_global_options(args, command)
        result = command.main(args=args, prog_name="haowu", standalone_mode=False)
        code = int(result) if isinstance(result, int) else ExitCode.OK
        if code == ExitCode.INTERRUPTED:  # Typer hands Ctrl-C back as this code
            out.error(_(_INTERRUPTED))
        return code
    except HaowuError as exc:
        out.error(exc.message, exc.hint)
        return exc.exit_code
    except Exit as exc:
        return exc.exit_code
    except Abort:
        out.error(_("aborted"))
        return ExitCode.FAILED
    except KeyboardInterrupt:
        out.error(_(_INTERRUPTED))
        return ExitCode.INTERRUPTED
    except TyperException as exc:  # usage errors: bad option, missing argument
        from typer._click.exceptions import NoArgsIsHelpError, UsageError

        if isinstance(exc, UsageError) and not isinstance(exc, NoArgsIsHelpError):
            show_usage_error(exc, out)
        elif (show := getattr(exc, "show", None)) is not None:
            show()
        else:
            out.error(exc.format_message())
        return getattr(exc, "exit_code", ExitCode.USAGE)
    except OutputClosed:
        raise
    except Exception as exc:
        if is_interrupt(exc):  # DuckDB stopped a query for Ctrl-C and said so its own way
            out.error(_(_INTERRUPTED))
            return ExitCode.INTERRUPTED
        if _state["traceback"]:
            raise
        out.error(
            _("unexpected {kind}: {error}").format(kind=type(exc).__name__, error=exc),
            hint=_("this is a bug in haowu; run again with --traceback and report what it prints"),
        )
        return ExitCode.FAILED
