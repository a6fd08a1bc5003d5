"""``python -m metamg``: the same command line as ``metamg``."""

from metamg import cli

if __name__ == "__main__":
    cli.main(prog_name="metamg")
