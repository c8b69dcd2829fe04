"""`python -m qa ARGS` does what `qa ARGS` does."""
from qa.cli.main import run

if __name__ == "__main__":
    run()
