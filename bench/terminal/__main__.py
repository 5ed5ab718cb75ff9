"""`python -m bench.terminal`: the terminal benchmark (bench/terminal/run.py)."""
import sys

from bench.terminal.run import main

sys.exit(main())
