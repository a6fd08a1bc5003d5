"""``python -m metamg``: the same command line as ``metamg``."""
from metamg.cli import main

if __name__ == "__main__":
    main(prog_name="metamg")
