"""`python cli.py ARGS` does exactly what `qa ARGS` does (run from a checkout, no install needed)."""
from qa.cli.main import run

if __name__ == "__main__":
    run()
