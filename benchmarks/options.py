"""The command line and first console line the benchmarks share.

`python -m benchmarks` passes its whole command line to every benchmark's `main` in turn, so
each accepts the others' options (`known_arguments`) and the common ones mean the same to all.
"""

import argparse
import os
import platform
from collections.abc import Sequence
from importlib.metadata import version

from rich.console import Console

STORES = ("sqlite", "postgres")
TABLE_WIDTH = 120
"""Fixed, so that the table keeps one row per line also when printed to a pipe or a log."""


def benchmark_parser(module: str, doc: str | None, *, quick: str, only: bool = True,
                     hidden_profile: bool = False) -> argparse.ArgumentParser:
    """`python -m module`'s parser: `--quick` (helped by `quick`), `--only` a store, and with
    `hidden_profile` an undocumented `--profile` for a benchmark that makes no profile."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=quick)
    if only:
        parser.add_argument("--only", choices=STORES, help="benchmark one store only")
    if hidden_profile:
        parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    return parser


def known_arguments(parser: argparse.ArgumentParser,
                    argv: Sequence[str] | None) -> argparse.Namespace:
    """The options `parser` knows; the rest of the suite's command line passes by."""
    arguments, _ = parser.parse_known_args(argv)
    return arguments


def load_note() -> str:
    """The machine's load, since other work on it slows every rate and blurs the ratios."""
    cores = os.cpu_count() or 1
    load = os.getloadavg()[0]
    note = f"load average {load:.2f} on {cores} cores"
    return note + (" (busy: expect noisy rates)" if load > cores / 2 else "")


def versions() -> str:
    """What a rate depends on besides Tandem's code: the interpreter, the library, the CPU."""
    return (f"Python {platform.python_version()}, eventsourcing {version('eventsourcing')}, "
            f"{platform.machine()}")


def titled_console(title: str) -> Console:
    """A console at the tables' width that has printed `title` and the machine's load."""
    console = Console(width=TABLE_WIDTH, soft_wrap=True)
    console.print(f"{title}; {load_note()}.", highlight=False)
    return console
