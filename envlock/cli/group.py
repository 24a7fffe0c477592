"""The ``envlock`` click group: each command lives in its own module and is imported only when
invoked, so fast paths (``lock --check``, no-op ``create``) stay fast."""

from __future__ import annotations

import importlib
import importlib.util

import click

from envlock import __version__

# command name -> module under envlock.cli exposing ``command``
COMMANDS: dict[str, str] = {
    "profiles": "profiles_cmd",
    "lock": "lock_cmd",
    "create": "create_cmd",
    "check": "check_cmd",
    "run": "run_cmd",
    "activate": "activate_cmd",
    "kernel": "kernel_cmd",
    "cache-key": "cache_key_cmd",
    "verify": "verify_cmd",
    "audit": "audit_cmd",
    "diff": "diff_cmd",
    "scan": "scan_cmd",
    "rehearse": "rehearse_cmd",
    "mirror": "mirror_cmd",
    "pack": "pack_cmd",
    "unpack": "unpack_cmd",
    "sbom": "sbom_cmd",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return [n for n, m in COMMANDS.items() if importlib.util.find_spec(f"envlock.cli.{m}")]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None or importlib.util.find_spec(f"envlock.cli.{module}") is None:
            return None
        return importlib.import_module(f"envlock.cli.{module}").command

    def invoke(self, ctx: click.Context) -> object:
        """A usage error of a command (unknown option, missing value) still answers ``--json``
        with one object on stdout; click prints its usage text on stderr as always."""
        args = [*ctx.protected_args, *ctx.args]
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            if "--json" in args[1:args.index("--") if "--" in args else len(args)]:
                from envlock.cli._support import print_json

                print_json({"ok": False, "error": exc.format_message(), "error_kind": "usage",
                            "exit_code": exc.exit_code})
            raise


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="envlock")
def main() -> None:
    """Locked, verified TensorFlow/Keras environments from per-machine profiles."""
