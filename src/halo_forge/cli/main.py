"""The ``halo-forge`` entry point: builds the typer app and maps every error to one line.

Options default to ``None`` so that only flags the user typed override a ``--config`` YAML
(see ``halo_forge.config.resolve``); the help text shows the real defaults.
"""

from __future__ import annotations

import os
import sys
import traceback
import warnings
from pathlib import Path

import click
import typer

try:  # typer >= 0.29 vendors its own copy of click; its exceptions are not click's
    from typer._click import exceptions as _tx
except ImportError:  # pragma: no cover - older typer uses click itself
    _tx = click.exceptions

from halo_forge.cli import benchmark, data, info, raft, selftest, serve, sft, verify
from halo_forge.errors import HaloForgeError

# peft 0.21 reads transformers 5's deprecated ``is_gradient_checkpointing`` when it wraps a model:
# a FutureWarning on every run that the user can do nothing about
warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)

app = typer.Typer(
    name="halo-forge",
    help="RLVR for code models: generate, verify in a sandbox, filter, fine-tune, benchmark.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(raft.app, name="raft")
app.add_typer(sft.app, name="sft")
app.add_typer(benchmark.app, name="benchmark")
app.add_typer(data.app, name="data")
app.command("info")(info.info)
app.command("verify")(verify.verify)
app.command("serve")(serve.serve)
app.command("test")(selftest.selftest)


def _fail(message: str, code: int) -> int:
    print(f"halo-forge: error: {message}", file=sys.stderr, flush=True)
    return code


def run(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code. Never lets a traceback reach the terminal."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="halo-forge", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except HaloForgeError as e:
        return _fail(str(e), e.exit_code)
    except (click.exceptions.NoArgsIsHelpError, _tx.NoArgsIsHelpError):
        return 0
    except (click.UsageError, _tx.UsageError) as e:
        hint = f" (see '{e.ctx.command_path} --help')" if e.ctx else ""
        return _fail(e.format_message().replace("\n", " ") + hint, 2)
    except (click.ClickException, _tx.ClickException) as e:
        return _fail(e.format_message().replace("\n", " "), e.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort, typer.Abort):
        return _fail("interrupted; finished work is saved — rerun the same command to resume", 130)
    except (click.exceptions.Exit, typer.Exit) as e:
        return e.exit_code
    except MemoryError:
        return _fail("out of memory; lower the batch sizes or --samples-per-prompt", 1)
    except Exception as e:  # a bug of ours: keep the terminal to one line, keep the traceback
        log = _save_traceback()
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        return _fail(f"internal error: {type(e).__name__}: {first} (traceback in {log})", 70)


def _save_traceback() -> Path:
    from halo_forge.models.embedded import cache_root

    path = cache_root() / "last-error.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(traceback.format_exc())
    except OSError:
        path = Path(os.devnull)
    return path


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
