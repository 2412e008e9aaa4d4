"""``python -m iamgraph``: the same command line as the ``iamgraph`` script."""

from iamgraph.cli import main

if __name__ == "__main__":
    main()
